"""The Dublin procedure (DOMAIN.md §3 rows 6, 7 and 9): the request to another Member State,
its reply or acceptance by default, the transfer period and its extensions, and the
examination clock that waits until responsibility is settled. Dublin III values for
applications registered until 1 July 2026, AMMR values after (AMMR Art. 84), each chosen by
the registration date. Expected dates are written out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Deadline
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def deadline(case: Application, code: str) -> Deadline:
    return Deadline.objects.filter(application=case, rule_id=code).latest("id")


def running(case: Application) -> set[str]:
    rows = Deadline.objects.running().filter(application=case)
    return set(rows.values_list("rule_id", flat=True))


def dublin_case(alice, *, made: dt.date, lodged: dt.date) -> Application:
    return submit(alice, submitted_on=made, lodged_on=lodged, procedure="dublin")


def request(case, alice, *, sent_on: dt.date, state="PL") -> Application:
    return workflow.send_dublin_request(
        case, actor=alice, kind="take_charge", requested_state=state, sent_on=sent_on
    )


# ---- Dublin III -------------------------------------------------------------------------


def test_a_dublin_iii_request_is_due_3_months_after_lodging(alice):
    with at(2023, 3, 2, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
    # Lodged on Thursday 2 March 2023 + 3 months = Friday 2 June 2023.
    limit = deadline(case, "dublin-request")
    assert limit.due_on == D(2023, 6, 2)
    assert (limit.rule_set_key, limit.rule_set_date) == ("registered", D(2023, 3, 2))
    # No examination clock while responsibility is open.
    assert "examination" not in running(case)


def test_the_request_starts_the_two_months_for_the_reply(alice):
    with at(2023, 4, 3, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
    assert deadline(case, "dublin-request").status == Deadline.Status.MET
    # Sent Monday 3 April 2023 + 2 months = Saturday 3 June 2023: Dublin III counts
    # weekends and holidays (Art. 42(c)) and does not move the end.
    assert deadline(case, "dublin-reply").due_on == D(2023, 6, 3)
    assert CaseEvent.objects.filter(application=case, action="dublin_request").exists()


def test_an_acceptance_starts_the_six_month_transfer_period(alice):
    with at(2023, 5, 10, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
        workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=D(2023, 5, 10))
    case.refresh_from_db()
    assert (case.responsible_state, case.responsibility_determined_on) == ("PL", D(2023, 5, 10))
    assert deadline(case, "dublin-reply").status == Deadline.Status.MET
    # Accepted on 10 May 2023 + 6 months = Friday 10 November 2023.
    assert deadline(case, "dublin-transfer").due_on == D(2023, 11, 10)
    assert "examination-dublin" not in running(case)


def test_no_reply_in_time_is_acceptance_by_default(alice):
    with at(2023, 4, 3, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
    with at(2023, 6, 3, 18, 0), pytest.raises(workflow.TransitionForbidden):
        workflow.accept_by_default(case, actor=alice)  # the last day of the reply is not over
    with at(2023, 6, 5, 9, 0):
        workflow.accept_by_default(case, actor=alice)
    case.refresh_from_db()
    assert (case.dublin_reply, case.responsible_state) == ("accepted_by_default", "PL")
    # Deemed accepted at the end of Saturday 3 June 2023: transfer by 3 December 2023.
    assert deadline(case, "dublin-transfer").due_on == D(2023, 12, 3)


def test_absconding_extends_the_transfer_to_18_months_from_the_acceptance(alice):
    with at(2023, 6, 1, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
        workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=D(2023, 5, 10))
        workflow.extend_transfer(
            case, actor=alice, ground="absconding", reason="Not at the centre since 28 May."
        )
    assert deadline(case, "dublin-transfer").status == Deadline.Status.CANCELLED
    # 10 May 2023 + 18 months = 10 November 2024.
    assert deadline(case, "dublin-transfer-absconding").due_on == D(2024, 11, 10)
    with at(2024, 3, 1, 10, 0):
        workflow.record_transfer(case, actor=alice, transferred_on=D(2024, 3, 1))
    assert deadline(case, "dublin-transfer-absconding").status == Deadline.Status.MET


def test_imprisonment_extends_the_transfer_to_one_year(alice):
    with at(2023, 6, 1, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
        workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=D(2023, 5, 10))
        workflow.extend_transfer(case, actor=alice, ground="imprisonment", reason="Sentenced.")
    assert deadline(case, "dublin-transfer-imprisonment").due_on == D(2024, 5, 10)


def test_a_refusal_leaves_responsibility_open_and_lithuania_may_take_it(alice):
    with at(2023, 5, 20, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
        workflow.record_dublin_reply(case, actor=alice, accepted=False, replied_on=D(2023, 5, 15))
        assert not running(case) & {"dublin-transfer", "examination-dublin"}
        workflow.determine_responsibility(
            case, actor=alice, determined_on=D(2023, 5, 20), responsible_state="LT"
        )
    # 20 May 2023 + 6 months = 20 November 2023 (APD Art. 31(3)).
    assert deadline(case, "examination-dublin").due_on == D(2023, 11, 20)


def test_entering_dublin_stops_the_examination_clock(alice):
    with at(2023, 3, 10, 10, 0):
        case = submit(alice, submitted_on=D(2023, 3, 1), lodged_on=D(2023, 3, 2))
        assert "examination" in running(case)
        workflow.start_dublin(case, actor=alice, reason="Eurodac hit: Poland.")
    assert deadline(case, "examination").status == Deadline.Status.CANCELLED
    assert deadline(case, "dublin-request").due_on == D(2023, 6, 2)
    case.refresh_from_db()
    assert case.procedure == "dublin"


# ---- AMMR, chosen by registration after 1 July 2026 ---------------------------------------


def test_an_application_registered_after_1_july_2026_follows_the_ammr(alice):
    with at(2026, 7, 10, 10, 0):
        case = dublin_case(alice, made=D(2026, 6, 30), lodged=D(2026, 7, 3))
        request(case, alice, sent_on=D(2026, 7, 10))
    # Registered Friday 3 July 2026 + 2 months = Thursday 3 September 2026.
    assert deadline(case, "dublin-request-ammr").due_on == D(2026, 9, 3)
    # Sent Friday 10 July + 1 month = Monday 10 August 2026.
    assert deadline(case, "dublin-reply-ammr").due_on == D(2026, 8, 10)
    # The APR's own clocks follow the day the application was made (30 June 2026).
    assert deadline(case, "registration-apr").rule_set_date == D(2026, 6, 30)
    with at(2026, 8, 1, 10, 0):
        workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=D(2026, 8, 1))
    # Accepted Saturday 1 August 2026 + 6 months = Monday 1 February 2027.
    assert deadline(case, "dublin-transfer-ammr").due_on == D(2027, 2, 1)


def test_an_application_registered_on_1_july_2026_stays_under_dublin_iii(alice):
    with at(2026, 7, 1, 10, 0):
        case = dublin_case(alice, made=D(2026, 6, 30), lodged=D(2026, 7, 1))
    # 1 July 2026 + 3 months = Thursday 1 October 2026.
    assert deadline(case, "dublin-request").due_on == D(2026, 10, 1)
    assert "dublin-request-ammr" not in running(case)


# ---- refusals and the page ----------------------------------------------------------------


def test_it_refuses_a_request_outside_the_dublin_procedure_or_to_lithuania(alice):
    with at(2023, 4, 3, 10, 0):
        regular = submit(alice, submitted_on=D(2023, 3, 1), lodged_on=D(2023, 3, 2))
        with pytest.raises(workflow.TransitionForbidden):
            request(regular, alice, sent_on=D(2023, 4, 3))
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        with pytest.raises(ValidationError):
            request(case, alice, sent_on=D(2023, 4, 3), state="LT")
        with pytest.raises(workflow.TransitionForbidden):
            workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=D(2023, 4, 3))


def test_it_refuses_a_dublin_step_by_an_outsider(alice, oscar):
    with at(2023, 4, 3, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        with pytest.raises(workflow.TransitionForbidden):
            request(case, oscar, sent_on=D(2023, 4, 3))
    assert not CaseEvent.objects.filter(action="dublin_request").exists()


def test_the_case_page_shows_the_dublin_steps(client, alice):
    with at(2023, 5, 10, 10, 0):
        case = dublin_case(alice, made=D(2023, 3, 1), lodged=D(2023, 3, 2))
        request(case, alice, sent_on=D(2023, 4, 3))
        workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=D(2023, 5, 10))
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Take-charge request: Poland" in page
    assert "Reply to the Dublin request: Accepted (2023-05-10)" in page
    assert "Dublin transfer" in page
