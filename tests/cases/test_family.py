"""Family links between applicants (issue 17): recorded from one case, shown on both with the
inverse relation, an event on both timelines, refused when wrong, removed with a reason, and
shown to each reader only as far as they may read the other case."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from cases import workflow
from cases.models import Application, CaseEvent, FamilyLink
from cases.timeline_person import person_title
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")


@pytest.fixture(autouse=True)
def _on_1_september_2023():
    with time_machine.travel(dt.datetime(2023, 9, 1, 10, 0, tzinfo=VILNIUS), tick=False):
        yield


@pytest.fixture
def ivan(alice) -> Application:
    return submit(alice, family_name="Korolev", given_names="Ivan")


@pytest.fixture
def anna(alice) -> Application:
    return submit(alice, family_name="Koroleva", given_names="Anna", name_original="")


@pytest.fixture
def far_case(oscar) -> Application:
    """A case of the other unit (alice may not read it)."""
    return submit(oscar, family_name="Orlov", given_names="Pyotr", name_original="")


def link(case, actor, other, relation="spouse") -> FamilyLink:
    return workflow.link_family(
        case, actor=actor, relative_reference=other.reference, relation=relation
    )


def family_events(case) -> list[tuple[str, dict]]:
    rows = CaseEvent.objects.filter(application=case, action__startswith="family_")
    return [(e.action, e.data) for e in rows.order_by("pk")]


def page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


# ---- the verbs --------------------------------------------------------------------------


def test_it_links_two_applicants_once_with_an_event_on_both_cases(alice, ivan, anna):
    row = link(ivan, alice, anna, "child")
    assert (row.applicant_id, row.relative_id, row.relation) == (
        ivan.applicant_id,
        anna.applicant_id,
        "child",
    )
    assert row.recorded_by == alice
    # Anna is Ivan's child: Ivan's event says "child", Anna's says "parent".
    assert family_events(ivan) == [("family_linked", {"link": row.pk, "relation": "child"})]
    assert family_events(anna) == [("family_linked", {"link": row.pk, "relation": "parent"})]


def test_the_timeline_names_the_relation_from_each_side_in_both_languages(
    client, alice, ivan, anna
):
    link(ivan, alice, anna, "parent")
    for case, english, lithuanian in (
        (ivan, "Family member linked: Parent", "Susietas šeimos narys: Tėvas ar motina"),
        (anna, "Family member linked: Child", "Susietas šeimos narys: Vaikas"),
    ):
        assert english in page(client, alice, case)
        event = CaseEvent.objects.get(application=case, action="family_linked")
        with translation.override("lt"):
            assert person_title(event.action, event.data, str) == lithuanian


def test_the_same_link_again_changes_nothing(alice, ivan, anna):
    first = link(ivan, alice, anna, "spouse")
    again = link(anna, alice, ivan, "spouse")
    assert again.pk == first.pk
    assert FamilyLink.objects.count() == 1
    assert len(family_events(ivan)) == len(family_events(anna)) == 1


def test_it_refuses_a_contradicting_or_second_relation_for_a_pair(alice, ivan, anna):
    link(ivan, alice, anna, "parent")  # Anna is Ivan's parent
    for case, other, relation in ((anna, ivan, "parent"), (ivan, anna, "sibling")):
        with pytest.raises(ValidationError) as refused:
            link(case, alice, other, relation)
        assert "already linked" in refused.value.message_dict["relation"][0]
    assert FamilyLink.objects.count() == 1


def test_it_refuses_a_self_link_through_the_applicants_other_case(alice, ivan, dora):
    workflow.withdraw(
        ivan, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    later = workflow.intake(
        actor=alice,
        applicant=ivan.applicant,
        procedure="subsequent",
        previous_application=ivan,
        submitted_on=dt.date(2023, 9, 1),
    )
    with pytest.raises(ValidationError) as refused:
        link(later, alice, ivan)
    assert "not their own family member" in refused.value.message_dict["relative_reference"][0]
    with pytest.raises(ValidationError):
        link(later, alice, later)
    assert not FamilyLink.objects.exists()


@pytest.mark.parametrize(
    ("reference", "relation", "field"),
    [
        ("", "spouse", "relative_reference"),
        ("LT-2099-999999", "spouse", "relative_reference"),
        ("LT-2023\x00-000001", "spouse", "relative_reference"),
        ("x" * 500, "spouse", "relative_reference"),
        ("<script>marker", "spouse", "relative_reference"),
        ("{anna}", "cousin", "relation"),
        ("{anna}", "", "relation"),
        ("{anna}", None, "relation"),
    ],
)
def test_it_refuses_bad_input_whole(alice, ivan, anna, reference, relation, field):
    reference = reference.replace("{anna}", anna.reference)
    with pytest.raises(ValidationError) as refused:
        workflow.link_family(ivan, actor=alice, relative_reference=reference, relation=relation)
    assert field in refused.value.message_dict
    assert not FamilyLink.objects.exists()
    assert family_events(ivan) == family_events(anna) == []


def test_a_case_the_actor_may_not_read_is_refused_like_a_missing_one(alice, ivan, far_case):
    with pytest.raises(ValidationError) as refused:
        link(ivan, alice, far_case)
    message = refused.value.message_dict["relative_reference"][0]
    assert message == "No case with this reference that you may read: check the reference."
    assert family_events(far_case) == []


def test_an_outsider_or_an_administrator_may_not_link(oscar, adam, alice, ivan, anna):
    for actor in (oscar, adam):
        with pytest.raises((workflow.TransitionForbidden, ValidationError)):
            link(ivan, actor, anna)
    assert not FamilyLink.objects.exists()


def test_an_ended_case_cannot_be_linked_from(alice, ivan, anna):
    workflow.withdraw(
        ivan, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    with pytest.raises(workflow.TransitionForbidden):
        link(ivan, alice, anna)
    # From the open case, the ended one may be named: the relation is the person's.
    link(anna, alice, ivan, "sibling")
    assert family_events(ivan)[-1] == (
        "family_linked",
        {"link": FamilyLink.objects.get().pk, "relation": "sibling"},
    )


def test_unlinking_removes_the_link_with_the_reason_on_both_timelines(alice, ivan, anna):
    row = link(ivan, alice, anna, "child")
    workflow.unlink_family(anna, actor=alice, link=row.pk, reason="Recorded on the wrong person")
    assert not FamilyLink.objects.exists()
    for case, relation in ((anna, "parent"), (ivan, "child")):
        event = CaseEvent.objects.get(application=case, action="family_unlinked")
        assert event.data == {"link": row.pk, "relation": relation}
        assert event.reason == "Recorded on the wrong person"


def test_unlinking_needs_a_reason_and_a_link_of_this_applicant(alice, ivan, anna, far_case, root):
    row = link(ivan, alice, anna)
    with pytest.raises(ValidationError):
        workflow.unlink_family(ivan, actor=alice, link=row.pk, reason="  ")
    for bad in (row.pk + 1000, "1", None, True):
        with pytest.raises(ValidationError):
            workflow.unlink_family(ivan, actor=alice, link=bad, reason="Wrong")
    # A link of other people, named from a case it does not concern.
    with pytest.raises(ValidationError):
        workflow.unlink_family(far_case, actor=root, link=row.pk, reason="Wrong")
    assert FamilyLink.objects.filter(pk=row.pk).exists()


def test_an_outsider_may_not_unlink(alice, oscar, ivan, anna):
    row = link(ivan, alice, anna)
    with pytest.raises(workflow.TransitionForbidden):
        workflow.unlink_family(ivan, actor=oscar, link=row.pk, reason="Wrong")
    assert FamilyLink.objects.filter(pk=row.pk).exists()


def test_a_correction_to_the_same_person_carries_the_links_along(alice, root, ivan, anna):
    """Ivan recorded twice: his second record's case is corrected to the first; the second
    record's links pass to the first."""
    twin = submit(alice, family_name="Korolyov", given_names="Ivan", name_original="")
    link(twin, alice, anna, "spouse")
    workflow.correct_record(twin, actor=root, reason="Same person", applicant=ivan.applicant)
    row = FamilyLink.objects.get()
    assert {row.applicant_id, row.relative_id} == {ivan.applicant_id, anna.applicant_id}
    assert row.seen_from(ivan.applicant_id) == (anna.applicant_id, "spouse")


# ---- the case page ----------------------------------------------------------------------


def test_both_case_pages_show_the_link_with_the_inverse_relation(client, alice, ivan, anna):
    link(ivan, alice, anna, "parent")
    ivans = page(client, alice, ivan)
    assert 'id="family"' in ivans
    assert "Anna KOROLEVA" in ivans and anna.reference in ivans
    annas = page(client, alice, anna)
    assert "Ivan KOROLEV" in annas and ivan.reference in annas
    assert ">Child<" in annas and ">Parent<" in ivans


def test_a_reader_of_one_side_only_sees_no_name_nor_reference(
    client, alice, oscar, root, ivan, far_case
):
    link(ivan, root, far_case, "spouse")
    alices = page(client, alice, ivan)
    assert "a family member's case you cannot open" in alices
    assert "ORLOV" not in alices.upper() and far_case.reference not in alices
    oscars = page(client, oscar, far_case)
    assert "a family member's case you cannot open" in oscars
    assert ivan.reference not in oscars
    assert "Ivan KOROLEV" not in oscars


def test_the_forms_are_offered_only_to_who_may_work_on_the_open_case(
    client, alice, adam, ivan, anna
):
    link(ivan, alice, anna)
    assert 'id="family-link-form"' in page(client, alice, ivan)
    assert 'name="link"' in page(client, alice, ivan)
    administrators = page(client, adam, ivan)
    assert 'id="family-link-form"' not in administrators
    assert 'name="link"' not in administrators
    assert "Anna KOROLEVA" in administrators  # they read every case


def test_the_page_form_links_and_unlinks(client, alice, ivan, anna):
    client.force_login(alice)
    url = reverse("cases:action", args=[ivan.pk, "family_link"])
    response = client.post(
        url, {"relative_reference": anna.reference.lower(), "relation": "sibling"}
    )
    assert response.status_code == 302
    row = FamilyLink.objects.get()
    assert row.relation == "sibling"
    response = client.post(
        reverse("cases:action", args=[anna.pk, "family_unlink"]),
        {"link": str(row.pk), "reason": "Not related"},
    )
    assert response.status_code == 302
    assert not FamilyLink.objects.exists()


def test_the_page_form_shows_a_wrong_reference_beside_the_field(client, alice, ivan, far_case):
    client.force_login(alice)
    url = reverse("cases:action", args=[ivan.pk, "family_link"])
    response = client.post(url, {"relative_reference": far_case.reference, "relation": "spouse"})
    assert response.status_code == 400
    assert "No case with this reference that you may read" in response.content.decode()
    assert not FamilyLink.objects.exists()


def test_the_case_page_and_the_api_cost_the_same_queries_however_many_links(
    client, alice, ivan, anna
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.api.conftest import Api, token_for

    link(ivan, alice, anna)
    client.force_login(alice)
    api = Api(token_for(alice))
    urls = (reverse("cases:detail", args=[ivan.pk]), reverse("api:case", args=[ivan.pk]))

    def counts() -> list[int]:
        found = []
        for url, get in zip(urls, (client.get, api.get), strict=True):
            get(url)  # per-process caches warmed
            with CaptureQueriesContext(connection) as queries:
                assert get(url).status_code == 200
            found.append(len(queries.captured_queries))
        return found

    one = counts()
    for n in range(4):
        relative = submit(alice, family_name=f"Relative{n}", given_names="X", name_original="")
        link(ivan, alice, relative, "sibling")
    assert counts() == one
