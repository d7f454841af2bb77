"""Every admin page fits the window: each registered model's list, and one change page of
each model that has rows, at 1280x800 and 1024x768, with content as long as real data gets
(the sample case, applicants with long names in two scripts, a long unit, long notes, a
reminder that failed with a long error, a browser's user agent in the sign-in records).

"Fits" means nothing scrolls sideways: not the page, and not a box inside it (Django's
admin puts a list's table in a box that scrolls on its own). A screenshot of each list at
1280 px goes to the artifacts folder."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts import mfa, roles
from accounts.models import Unit, User
from cases import reminders, workflow
from cases.models import Application, Document, Facility, Notification, Reminder
from tests.conftest import make_user, submit, totp_code

from .conftest import PASSWORD, authenticator

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = ((1280, 800), (1024, 768))

# What scrolls sideways: the page, or any box on it that scrolls on its own (a list's
# results, an inline's table). Answers a description of each, empty when all fit.
OVERFLOWS = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    found.push(`the page: ${root.scrollWidth} px in ${root.clientWidth} px`);
  }
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (!["auto", "scroll"].includes(style.overflowX)) continue;
    // A text area wraps its text; a list box clips long options (their titles hold them)
    // and never scrolls sideways.
    if (["TEXTAREA", "SELECT"].includes(el.tagName)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const name = el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${el.className}`;
      found.push(`${name}: ${el.scrollWidth} px in ${el.clientWidth} px`);
    }
  }
  return found;
}"""

LONG_UNIT = "Migration Department, Asylum Division, Vilnius Regional Office for Border Cases"
LONG_NAMES = (
    # family name, given names, original script, nationality
    (
        "Abdurakhmanova-Karimova-Nurmagomedova",
        "Gulnara Shakhzoda Mukhammadovna",
        "Абдурахманова-Каримова-Нурмагомедова Гульнара Шахзода Мухаммадовна",
        "UZ",
    ),
    (
        "Wolde-Giorgis Tesfamariam Haile-Selassie",
        "Alemayehu Berhanu Gebremedhin",
        "ወልደ ጊዮርጊስ ተስፋማርያም ኃይለ ሥላሴ አለማየሁ ብርሃኑ",
        "ER",
    ),
    (
        "Al-Husseini Abu-Shakra Mahmoud",
        "Mohammed Abdel-Rahman Khaled",
        "محمد عبد الرحمن خالد الحسيني أبو شقرة محمود",
        "SY",
    ),
)
LONG_TEXT = (
    "The applicant asked for an interpreter of the Tigrinya language for the interview; the "
    "reception centre reported that none was available before the end of the month, so the "
    "interview was moved and the applicant was told in writing, with the reasons and the "
    "new date, in a language he understands."
)
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36 Edg/156.0.3412.1 (Haven test, a long user agent string)"
)


def _world(sample_case) -> None:
    """Rows for every admin list, each with long values where a person would write them."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from api.models import ApiToken

    unit = Unit.objects.create(name=LONG_UNIT)
    caseworker = make_user(
        "ruta.jonaitiene-kazlauskiene",
        roles.CASEWORKER,
        sample_case.unit,
        last_name="Jonaitienė-Kazlauskienė",
    )
    decider = make_user(
        "vida.kazlauskiene",
        roles.DECISION_MAKER,
        sample_case.unit,
        last_name="Kazlauskienė-Petrauskaitė",
    )
    make_user("border.officer", roles.CASEWORKER, unit, last_name="Vaitkevičiūtė-Butkienė")
    User.objects.filter(pk=caseworker.pk).update(first_name="Rūta Aleksandra")
    User.objects.filter(pk=decider.pk).update(first_name="Vida Ona")
    caseworker.refresh_from_db()
    Unit.objects.filter(pk=unit.pk).update(duty_officer=User.objects.get(username="border.officer"))
    Facility.objects.create(
        name="Reception centre for unaccompanied minors and families, Rukla (Jonava district)",
        code="rukla-families",
        kind=Facility.Kind.RECEPTION,
        operator="Refugees Reception Centre under the Ministry of Social Security and Labour",
        capacity=450,
    )
    today = timezone.localdate()
    for i, (family, given, original, nationality) in enumerate(LONG_NAMES):
        case = submit(
            caseworker,
            family_name=family,
            given_names=given,
            name_original=original,
            nationality=nationality,
            submitted_on=today - dt.timedelta(days=10 + i),
        )
        workflow.assign(case, actor=decider, assignee=caseworker)
        workflow.add_note(case, actor=caseworker, text=LONG_TEXT)
        workflow.add_document(
            case,
            actor=caseworker,
            file=ContentFile(b"Interview record\n" + LONG_TEXT.encode()),
            original_name=f"interview-record-{family.lower().replace(' ', '-')}-2026-final.txt",
            kind=Document.Kind.INTERVIEW_RECORD,
            title=f"Interview record of {given} {family}, with the interpreter's remarks",
        )
    workflow.add_note(sample_case, actor=caseworker, text=LONG_TEXT)

    # Reminders of the overdue deadlines, one of which failed with a long error, and the
    # notifications a caseworker reads.
    reminders.sweep(enqueue=lambda *args: None, enqueue_digest=lambda *args: None)
    Reminder.objects.filter(pk__in=Reminder.objects.values("pk")[:1]).update(
        attempts=3,
        last_error=(
            "SMTPRecipientsRefused: {'ruta.jonaitiene-kazlauskiene@migracija.example.lt': "
            "(550, b'5.1.1 The email account that you tried to reach does not exist. Please "
            "try double-checking the recipient address for typos or unnecessary spaces.')}"
        ),
    )
    for case in Application.objects.all():
        Notification.objects.create(
            recipient=caseworker,
            text=f"{case.reference}: {LONG_TEXT}",
            link=reverse("cases:detail", args=[case.pk]),
        )

    # Account records: a reset second factor with its reason, an API token, sign-in records
    # with a browser's user agent.
    admin_user = User.objects.get(username="admin")
    authenticator(caseworker.username)
    mfa.reset_devices(
        caseworker,
        actor=admin_user,
        reason="Lost her phone on the way to the Pabradė centre; ticket HD-2026-004711, "
        "confirmed by phone with her head of division.",
    )
    ApiToken.issue(
        decider, name="Statistics export for the Ministry of the Interior (monthly)", days=90
    )
    now = timezone.now()
    for model, extra in (
        (AccessAttempt, {"failures_since_start": 2}),
        (AccessFailureLog, {"locked_out": False}),
        (AccessLog, {}),
    ):
        model.objects.create(
            username="ruta.jonaitiene-kazlauskiene",
            ip_address="2001:db8:85a3:8d3:1319:8a2e:370:7348",
            user_agent=USER_AGENT,
            path_info="/accounts/login/?next=/cases/2026-000123/documents/upload/",
            attempt_time=now,
            **extra,
        )


def _sign_in_to_the_admin(page) -> None:
    device = authenticator("admin")
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(totp_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/admin/")


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _admin_pages() -> list[tuple[str, str]]:
    """Every registered model's list, and the change page of its first row if it has one."""
    pages = []
    for model in admin.site._registry:
        name = f"{model._meta.app_label}-{model._meta.model_name}"
        pages.append((name, _url(model, "changelist")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append((f"{name}-change", _url(model, "change", first.pk)))
    return pages


def _overflowing(page, pages, width: int, height: int, screenshot=None) -> list[str]:
    page.set_viewport_size({"width": width, "height": height})
    found = []
    for name, url in pages:
        response = page.goto(url)
        assert response.status == 200, f"{url}: {response.status}"
        found += [f"{url} at {width} px: {what}" for what in page.evaluate(OVERFLOWS)]
        if screenshot is not None and not name.endswith("-change"):
            screenshot(f"admin-list-{name}-{width}")
    return found


def test_every_admin_list_and_change_page_fits_1280_and_1024_px(page, screenshot, sample_case):
    admin_user = User.objects.create_superuser("admin", "admin@example.test", PASSWORD)
    _world(sample_case)
    _sign_in_to_the_admin(page)
    pages = _admin_pages()
    assert len([name for name, _url in pages if name.endswith("-change")]) == len(
        admin.site._registry
    ), "every model has a row to open"

    overflowing = []
    for width, height in SIZES:
        overflowing += _overflowing(
            page, pages, width, height, screenshot if width == 1280 else None
        )
    # Lithuanian labels are longer: the narrower window again, in Lithuanian.
    admin_user.language = "lt"
    admin_user.save(update_fields=["language"])
    overflowing += _overflowing(page, pages, *SIZES[-1])
    assert not overflowing, "\n".join(overflowing)


def test_long_values_are_cut_in_lists_and_whole_in_their_title(page, sample_case):
    User.objects.create_superuser("admin", "admin@example.test", PASSWORD)
    _world(sample_case)
    _sign_in_to_the_admin(page)
    page.set_viewport_size({"width": 1024, "height": 768})

    page.goto(_url(Notification, "changelist"))
    cell = page.locator("td.field-text span").first
    assert cell.get_attribute("title").endswith(LONG_TEXT)
    assert cell.inner_text().endswith("…") and len(cell.inner_text()) <= 80

    # A person is named; the title adds the username.
    page.goto(_url(Reminder, "changelist"))
    person = page.locator("td.field-recipient span").first
    assert person.inner_text() == "Rūta Aleksandra Jonaitienė-Kazlauskienė"
    assert person.get_attribute("title").endswith("(ruta.jonaitiene-kazlauskiene)")

    # A moment breaks between its date and its time, never inside either.
    page.goto(_url(Application, "changelist"))
    moment = page.locator("td.field-next_deadline_at").first
    assert moment.locator("span.nowrap").count() == 2
