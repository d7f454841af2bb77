"""Sensitive facts: hidden on the case page, in lists, exports and the API until a reader
reveals them with one click (a POST), each reveal recorded in the access log; which facts
are sensitive is data an administrator edits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import workflow
from cases.models import Applicant, CaseEvent, SensitiveField
from cases.retention import anonymise_case
from cases.sensitive import ensure_default_sensitive_fields
from tests.cases.test_views_intake import INTAKE, form_data

pytestmark = pytest.mark.django_db

HEALTH = "zq-health Type 1 diabetes, needs insulin"
SOGI = "zq-sogi fled persecution as a gay man"
LIST = reverse("cases:list")


def detail(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def reveal_url(case) -> str:
    return reverse("cases:reveal", args=[case.pk])


@pytest.fixture
def sensitive_case(case):
    # Applicant facts are edited in the admin, not through a step: set them as it does.
    Applicant.objects.filter(pk=case.applicant_id).update(health_notes=HEALTH, sogi_notes=SOGI)
    case.applicant.refresh_from_db()
    return case


def reveals(case):
    return case.events.filter(kind=CaseEvent.Kind.ACCESS, action="reveal")


def test_the_defaults_are_the_special_category_facts():
    assert set(SensitiveField.objects.filter(hidden=True).values_list("fact", flat=True)) == {
        "applicant.health_notes",
        "applicant.sogi_notes",
        "applicant.trauma_history",
        "applicant.vulnerability_details",
        # The vulnerability assessment's categories (torture, trafficking, illness...).
        "application.vulnerabilities",
    }


def test_seeding_again_keeps_an_administrators_choice():
    SensitiveField.objects.filter(fact="applicant.health_notes").update(hidden=False)
    ensure_default_sensitive_fields()
    assert not SensitiveField.objects.get(fact="applicant.health_notes").hidden


def test_the_case_page_hides_them_and_offers_a_reveal(client, alice, sensitive_case):
    client.force_login(alice)
    html = client.get(detail(sensitive_case)).content.decode()
    assert "zq-health" not in html and "zq-sogi" not in html
    assert 'id="reveal-button"' in html
    assert f'action="{reveal_url(sensitive_case)}"' in html
    assert "<script" not in html.split("<body", 1)[1].replace('<script src="', "")


def test_one_click_reveals_them_once_and_records_it(client, alice, sensitive_case):
    client.force_login(alice)
    response = client.post(reveal_url(sensitive_case))
    assert response.status_code == 302
    assert response.url == detail(sensitive_case) + "#applicant-heading"

    event = reveals(sensitive_case).get()
    assert event.actor == alice
    assert event.data["facts"] == ["applicant.health_notes", "applicant.sogi_notes"]
    assert "zq-" not in str(event.data)  # names of facts, never their values

    shown = client.get(detail(sensitive_case)).content.decode()
    assert HEALTH in shown and SOGI in shown
    again = client.get(detail(sensitive_case)).content.decode()
    assert "zq-health" not in again  # a reload hides them again


def test_the_access_log_names_who_revealed_what(client, alice, dora, sensitive_case):
    client.force_login(alice)
    client.post(reveal_url(sensitive_case))
    client.force_login(dora)
    log = client.get(detail(sensitive_case)).context["access_log"]
    rows = [r for r in log if r["what"].startswith("Revealed sensitive facts")]
    assert len(rows) == 1
    assert rows[0]["actor"] == "Alice"
    assert "Applicant: health" in rows[0]["what"]
    assert "sexual orientation" in rows[0]["what"]


def test_a_reveal_is_a_post_for_readers_only(client, alice, oscar, sensitive_case):
    client.force_login(alice)
    assert client.get(reveal_url(sensitive_case)).status_code == 405
    client.force_login(oscar)
    assert client.post(reveal_url(sensitive_case)).status_code == 404
    assert not reveals(sensitive_case).exists()


def test_nothing_to_reveal_records_nothing(client, alice, case):
    client.force_login(alice)
    html = client.get(detail(case)).content.decode()
    assert 'id="reveal-button"' not in html
    client.post(reveal_url(case))
    assert not reveals(case).exists()


def test_an_administrator_decides_which_facts_are_hidden(client, alice, sensitive_case):
    SensitiveField.objects.filter(fact="applicant.health_notes").update(hidden=False)
    SensitiveField.objects.create(fact="application.claim_summary")
    client.force_login(alice)
    html = client.get(detail(sensitive_case)).content.decode()
    assert HEALTH in html
    assert "zq-sogi" not in html


def test_the_admin_edits_them_for_administrators_only(client, adam, olga_staff):
    client.force_login(adam)
    url = reverse("admin:cases_sensitivefield_changelist")
    assert client.get(url).status_code == 200
    field = SensitiveField.objects.get(fact="applicant.health_notes")
    change = reverse("admin:cases_sensitivefield_change", args=[field.pk])
    response = client.post(change, {"fact": field.fact, "hidden": "", "note": "Needed daily"})
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.hidden, field.note) == (False, "Needed daily")
    client.force_login(olga_staff)
    assert client.get(url).status_code == 403


@pytest.fixture
def olga_staff(other_unit):
    from accounts import roles
    from tests.conftest import make_user

    return make_user("olga", roles.CASEWORKER, other_unit, is_staff=True)


# -- lists, exports, the API ----------------------------------------------------------------


@pytest.fixture
def original_hidden(db):
    return SensitiveField.objects.create(fact="applicant.name_original", note="Safety")


def test_lists_and_exports_show_a_hidden_fact_as_hidden(client, alice, case, original_hidden):
    client.force_login(alice)
    listed = client.get(LIST)
    assert "Королёв" not in listed.content.decode()
    assert listed.context["rows"][0]["name_original"] == "[hidden]"
    for fmt in ("csv", "xlsx"):
        exported = client.get(LIST, {"format": fmt})
        body = b"".join(exported.streaming_content)
        if fmt == "csv":
            text = body.decode("utf-8-sig")
            assert "Королёв" not in text and "[hidden]" in text
        else:
            import io

            import openpyxl

            sheet = openpyxl.load_workbook(io.BytesIO(body)).active
            values = [c.value for row in sheet.iter_rows() for c in row]
            assert "[hidden]" in values and not any("Королёв" in str(v) for v in values)


def test_exports_never_carry_the_default_sensitive_facts(client, alice, sensitive_case):
    import io

    import openpyxl

    client.force_login(alice)
    text = b"".join(client.get(LIST, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "zq-" not in text
    assert "Королёв" in text  # not hidden by default
    body = b"".join(client.get(LIST, {"format": "xlsx"}).streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    values = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [v for v in values if "zq-" in v]
    assert any("Королёв" in v for v in values)
    # An export reveals nothing: no reveal is on record.
    assert not reveals(sensitive_case).exists()


def test_form_pages_do_not_name_a_hidden_original_name(client, alice, case, original_hidden):
    client.force_login(alice)
    page = client.get(reverse("cases:transition", args=[case.pk, "start_examination"]))
    assert page.status_code == 200
    assert "Королёв" not in page.content.decode()


# -- intake and retention -------------------------------------------------------------------


def test_intake_records_them(client, alice):
    client.force_login(alice)
    response = client.post(INTAKE, form_data(health_notes=HEALTH, vulnerability_details="Minor"))
    assert response.status_code == 302
    applicant = Applicant.objects.get(family_name="Sokolov")
    assert (applicant.health_notes, applicant.vulnerability_details) == (HEALTH, "Minor")


def test_retention_removes_them(alice, sensitive_case):
    workflow.withdraw(
        sensitive_case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    anonymise_case(sensitive_case.pk, timezone.localdate() + dt.timedelta(days=1))
    applicant = Applicant.objects.get(pk=sensitive_case.applicant_id)
    assert (applicant.health_notes, applicant.sogi_notes) == ("", "")
    assert not applicant.history.filter(health_notes=HEALTH).exists()


# -- emergency access -----------------------------------------------------------------------


def test_emergency_access_shows_them_only_after_a_recorded_reveal(client, oscar, sensitive_case):
    workflow.open_break_glass(sensitive_case, actor=oscar, reason="Night at the border")
    client.force_login(oscar)
    assert "zq-health" not in client.get(detail(sensitive_case)).content.decode()
    client.post(reveal_url(sensitive_case))
    assert reveals(sensitive_case).get().actor == oscar
    assert HEALTH in client.get(detail(sensitive_case)).content.decode()
