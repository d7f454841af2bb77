"""The age assessment (issue 17, "The person"): method, date, assessor, result and the
benefit of the doubt, recorded through `workflow.record_age_assessment` and the case page's
form; bad input is refused whole. Dates by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from cases import workflow
from cases.models import Application, CaseEvent
from cases.timeline_person import person_title
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date
VILNIUS = ZoneInfo("Europe/Vilnius")


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def assess(case, actor, **overrides) -> Application:
    values = {
        "method": "medical",
        "assessed_on": D(2023, 9, 1),
        "result": "undetermined",
        "benefit_of_doubt": True,
        "unaccompanied": False,
    }
    return workflow.record_age_assessment(case, actor=actor, **{**values, **overrides})


def test_it_records_the_assessment_with_the_acting_user_as_assessor(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        assess(case, alice)
    case.refresh_from_db()
    assert (case.age_assessment_method, case.age_assessed_on) == ("medical", D(2023, 9, 1))
    assert (case.age_assessment_result, case.age_benefit_of_doubt) == ("undetermined", True)
    assert case.age_assessed_by == alice
    # An undetermined age with the benefit of the doubt: treated as a minor.
    assert case.treated_as_minor_by_age() is True


def test_the_event_holds_codes_and_its_title_is_translated(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        assess(case, alice, method="documents", result="minor", benefit_of_doubt=False)
    event = CaseEvent.objects.get(application=case, action="age_assessed")
    assert event.actor == alice
    assert event.data == {
        "assessed_on": "2023-09-01",
        "method": "documents",
        "result": "minor",
        "benefit_of_doubt": False,
        "unaccompanied": False,
    }
    with translation.override("en"):
        assert person_title(event.action, event.data, str) == (
            "Age assessed on 2023-09-01 (Documents): Minor"
        )
    with translation.override("lt"):
        title = person_title(event.action, event.data, str)
    assert title.startswith("Amžius nustatytas 2023-09-01")
    assert "Nepilnametis" in title


def test_a_repeated_assessment_writes_one_event(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        assess(case, alice)
        assess(case, alice)
    assert CaseEvent.objects.filter(application=case, action="age_assessed").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"assessed_on": D(2023, 9, 2)}, "assessed_on"),  # tomorrow
        ({"assessed_on": D(2023, 8, 10)}, "assessed_on"),  # before the application (11 Aug)
        ({"assessed_on": "2023-09-01"}, "assessed_on"),
        ({"method": "x-ray"}, "method"),
        ({"result": "teenager"}, "result"),
        ({"result": "adult", "benefit_of_doubt": True}, "benefit_of_doubt"),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(alice, overrides, field):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        with pytest.raises(ValidationError) as refused:
            assess(case, alice, **overrides)
    assert field in refused.value.message_dict
    case.refresh_from_db()
    assert (case.age_assessed_on, case.age_assessment_result) == (None, "")
    assert not CaseEvent.objects.filter(application=case, action="age_assessed").exists()


def test_it_refuses_an_outsider(alice, oscar):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        with pytest.raises(workflow.TransitionForbidden):
            assess(case, oscar)


def form(**overrides) -> dict[str, str]:
    return {
        "method": "interview",
        "assessed_on": "2023-09-01",
        "result": "minor",
        "benefit_of_doubt": "on",
        "unaccompanied": "",
        **overrides,
    }


def test_the_case_page_offers_the_form_and_shows_the_assessment(client, alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        client.force_login(alice)
        url = reverse("cases:action", args=[case.pk, "age_assessment"])
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert f'action="{url}"' in page
        response = client.post(url, form())
        assert response.status_code == 302
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="age-assessment"' in page
    assert "Minor (Interview), assessed on 2023-09-01 by Alice" in page
    assert "benefit of the doubt applied" in page
    assert "Age assessed on 2023-09-01 (Interview): Minor" in page  # the timeline


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"assessed_on": "2023-09-05"}, "This date is in the future."),
        ({"assessed_on": "2023-08-01"}, "This date is before the application was made"),
        ({"result": "adult"}, "The benefit of the doubt treats the applicant as a minor"),
        ({"assessed_on": "2023-02-30"}, "Enter a valid date."),
        ({"method": "<script>marker"}, "Select a valid choice."),
    ],
)
def test_the_form_answers_bad_input_with_a_clear_error(client, alice, overrides, message):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        client.force_login(alice)
        url = reverse("cases:action", args=[case.pk, "age_assessment"])
        response = client.post(url, form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "<script>marker" not in response.content.decode()
    case.refresh_from_db()
    assert case.age_assessed_on is None


def test_the_form_is_not_found_for_an_outsider(client, alice, oscar):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        client.force_login(oscar)
        response = client.post(reverse("cases:action", args=[case.pk, "age_assessment"]), form())
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.age_assessed_on is None
