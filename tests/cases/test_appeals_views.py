"""The case page's appeals: the "Appeals" section, the forms that record the suspensive
effect, the judgment and a further appeal, the timeline's words, the API's answer, and the
Lithuanian interface."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from cases import workflow
from cases.models import Appeal, CaseEvent
from cases.timeline import TimelineBuilder

pytestmark = pytest.mark.django_db


def record_url(case, name: str) -> str:
    return reverse("cases:action", args=[case.pk, name])


def appealed_with_number(build_case, alice):
    case = build_case("decided")
    return workflow.appeal(
        case,
        actor=alice,
        expected_status="decided",
        reason="Appeal lodged",
        court="Vilnius Regional Administrative Court",
        court_case_number="eI3-1234-567/2024",
        lodged_on=dt.date(2024, 1, 20),
        suspensive_effect="requested",
    )


def test_the_case_page_lists_the_appeal_and_offers_its_records(client, alice, build_case):
    case = appealed_with_number(build_case, alice)
    client.force_login(alice)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="appeals"' in html
    assert "Vilnius Regional Administrative Court" in html
    assert "eI3-1234-567/2024" in html
    assert "Requested from the court: Not decided yet" in html
    assert "awaited" in html
    assert record_url(case, "judgment") in html
    assert record_url(case, "suspensive_effect") in html
    assert record_url(case, "further_appeal") not in html  # no judgment yet


def test_the_judgment_form_records_it_and_offers_the_further_appeal(client, alice, build_case):
    case = appealed_with_number(build_case, alice)
    client.force_login(alice)
    response = client.post(
        record_url(case, "judgment"),
        {"subject": "asylum_decision", "judgment_on": "2026-03-02", "outcome": "upheld"},
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get(application=case)
    assert (appeal.judgment_on, appeal.outcome) == (dt.date(2026, 3, 2), "upheld")
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Decision upheld (appeal dismissed)" in html
    assert record_url(case, "further_appeal") in html
    # The time for a further appeal, computed by hand: 2 March 2026 + 30 days.
    assert "2026-04-01" in html

    response = client.post(
        record_url(case, "further_appeal"),
        {
            "subject": "asylum_decision",
            "court": "Supreme Administrative Court of Lithuania",
            "court_case_number": "eA-77-2026",
            "lodged_on": "2026-03-30",
            "suspensive_effect": "none",
        },
    )
    assert response.status_code == 302
    second = Appeal.objects.get(application=case, level="second")
    assert second.court_case_number == "eA-77-2026"


def test_the_suspensive_effect_form_records_the_courts_answer(client, alice, build_case):
    case = appealed_with_number(build_case, alice)
    appeal = Appeal.objects.get(application=case)
    client.force_login(alice)
    response = client.post(
        record_url(case, "suspensive_effect"),
        {"appeal": appeal.pk, "effect": "requested", "granted": "yes", "decided_on": "2024-01-25"},
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.suspension, appeal.suspension_decided_on) == ("granted", dt.date(2024, 1, 25))


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("judgment", {"judgment_on": "2024-01-01", "outcome": "upheld"}, "judgment_on"),
        ("judgment", {"judgment_on": "2999-01-01", "outcome": "upheld"}, "judgment_on"),
        ("judgment", {"judgment_on": "2024-06-01", "outcome": "<script>"}, "outcome"),
        ("judgment", {"judgment_on": "not a date", "outcome": "upheld"}, "judgment_on"),
        ("suspensive_effect", {"appeal": "99999999", "effect": "automatic"}, None),
        ("suspensive_effect", {"appeal": "1e9", "effect": "automatic"}, "appeal"),
        ("further_appeal", {"court": "LVAT", "lodged_on": "2024-06-01"}, None),
    ],
)
def test_bad_input_is_refused_without_a_500_and_changes_nothing(
    client, alice, build_case, name, data, field
):
    case = appealed_with_number(build_case, alice)
    client.force_login(alice)
    before = CaseEvent.objects.filter(application=case).exclude(kind="access").count()
    response = client.post(record_url(case, name), {"subject": "asylum_decision", **data})
    assert response.status_code in (400, 403)
    if field:
        assert field in response.context["form"].errors
    appeal = Appeal.objects.get(application=case)
    assert (appeal.judgment_on, appeal.suspension) == (None, "pending")
    assert CaseEvent.objects.filter(application=case).exclude(kind="access").count() == before


def test_another_units_caseworker_cannot_reach_the_forms(client, oscar, alice, build_case):
    case = appealed_with_number(build_case, alice)
    client.force_login(oscar)
    response = client.post(
        record_url(case, "judgment"), {"judgment_on": "2024-06-01", "outcome": "upheld"}
    )
    assert response.status_code == 404
    assert Appeal.objects.get(application=case).judgment_on is None


def test_the_timeline_names_the_judgment_and_the_further_appeal(alice, build_case):
    case = appealed_with_number(build_case, alice)
    workflow.record_judgment(case, actor=alice, judgment_on=dt.date(2026, 3, 2), outcome="annulled")
    events = list(CaseEvent.objects.filter(application=case).exclude(kind="access"))

    def titles(language):
        with translation.override(language):
            builder = TimelineBuilder(
                case, events, notes=[], documents=[], placements=[], document_url=str
            )
            return [f"{row['title']} · {row['details']}" for row in builder.rows()]

    english = titles("en")
    assert (
        "Judgment of 2026-03-02 (Regional administrative court (first instance), Decision on the "
        "application): Decision annulled and the case remitted"
    ) in [t.split(" · ")[0] for t in english]
    [lodged] = [t for t in english if t.startswith("Appeal ·")]
    assert "lodged on 2024-01-20" in lodged
    assert "Suspensive effect: Requested from the court" in lodged
    lithuanian = titles("lt")
    assert (
        "2026-03-02 teismo sprendimas (Apygardos administracinis teismas (pirmoji instancija), "
        "Sprendimas dėl prašymo): Sprendimas panaikintas, byla grąžinta nagrinėti iš naujo"
    ) in [t.split(" · ")[0] for t in lithuanian]


def test_the_lithuanian_case_page_names_the_appeal_in_lithuanian(client, alice, build_case):
    case = appealed_with_number(build_case, alice)
    client.force_login(alice)
    client.cookies["django_language"] = "lt"
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Skundai" in html
    assert "Apygardos administracinis teismas (pirmoji instancija)" in html
    assert "Prašyta teismo: Dar neišspręsta" in html
    assert "Įrašyti teismo sprendimą dėl skundo" in html
