"""One permission system: the `rules` permissions of `cases.predicates`, asked through Django's
`user.has_perm(name, case)` by the model's transitions, the workflow, the one door and the UI.
"""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django_fsm import has_transition_perm

from accounts import roles
from cases import access, predicates, workflow
from cases.models import Application
from tests.conftest import make_user, submit

OTHER_UNIT = "This case belongs to another unit."
NOT_SIGNED_IN = "You are not signed in."
CASEWORKERS_ONLY = "Only a caseworker or decision-maker of the case's unit may do this."
DECISION_MAKERS_ONLY = "Only a decision-maker may do this."


@pytest.fixture
def ready_to_decide(build_case, alice) -> Application:
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    case.refresh_from_db()
    return case


def test_the_transition_asks_has_perm_and_the_ui_explains_the_same_refusal(
    ready_to_decide, other_unit, dora
):
    olga = make_user("olga", roles.DECISION_MAKER, other_unit)
    case = ready_to_decide

    assert Application.decide._django_fsm.get_transition(case.status).permission == (
        "cases.decide_case"
    )
    assert not olga.has_perm("cases.decide_case", case)
    assert not has_transition_perm(case.decide, olga)
    assert workflow.blocked_reason(case, "decide", olga) == OTHER_UNIT

    assert dora.has_perm("cases.decide_case", case)
    assert has_transition_perm(case.decide, dora)
    assert workflow.blocked_reason(case, "decide", dora) is None


def test_every_transition_names_a_rules_permission():
    transitions = Application._meta.get_field("status").get_all_transitions(Application)
    named = {t.name: t.permission for t in transitions}

    assert set(named.values()) == {"cases.work_on_case", "cases.decide_case"}
    assert all(rules.perm_exists(p) for p in named.values())
    assert {n for n, p in named.items() if p == "cases.decide_case"} == {
        "decide",
        "remit",
        "close",
    }


def test_the_predicates_module_has_no_second_permission_class():
    classes = [
        name
        for name, value in vars(predicates).items()
        if inspect.isclass(value) and value.__module__ == predicates.__name__
    ]
    assert classes == []
    for gone in ("RolePermission", "CASE_WORKER", "DECISION_MAKER"):
        assert not hasattr(predicates, gone)


@pytest.mark.parametrize(
    ("who", "perm", "reason"),
    [
        ("anonymous", "cases.work_on_case", NOT_SIGNED_IN),
        ("inactive alice", "cases.work_on_case", NOT_SIGNED_IN),
        ("inactive root", "cases.decide_case", NOT_SIGNED_IN),
        ("adam", "cases.work_on_case", CASEWORKERS_ONLY),
        ("adam", "cases.decide_case", DECISION_MAKERS_ONLY),
        ("alice", "cases.decide_case", DECISION_MAKERS_ONLY),
        ("oscar", "cases.work_on_case", OTHER_UNIT),
        ("oscar", "cases.decide_case", DECISION_MAKERS_ONLY),
        ("alice", "cases.work_on_case", None),
        ("dora", "cases.work_on_case", None),
        ("dora", "cases.decide_case", None),
        ("root", "cases.decide_case", None),
    ],
)
def test_a_refusal_names_the_first_check_that_fails(who, perm, reason, case, request):
    if who == "anonymous":
        user = AnonymousUser()
    else:
        user = request.getfixturevalue(who.removeprefix("inactive "))
        if who.startswith("inactive "):
            user.is_active = False
            user.save(update_fields=["is_active"])

    assert predicates.refusal(user, perm, case) == reason
    assert user.has_perm(perm, case) is (reason is None)


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", False), ("oscar", False), ("dora", True), ("adam", True), ("root", True)],
)
def test_the_access_log_is_for_decision_makers_of_the_unit_and_administrators(
    who, sees, case, request
):
    user = request.getfixturevalue(who)
    assert access.can_see_access_log(user, case) is sees


def test_reading_a_case_agrees_with_the_case_lists(case, oscar, alice, dora, adam, root):
    theirs = submit(oscar)
    others = [AnonymousUser(), make_user("nobody", None, case.unit)]
    for user in (alice, dora, oscar, adam, root, *others):
        for c in (case, theirs):
            listed = access.visible_applications(user).filter(pk=c.pk).exists()
            assert user.has_perm("cases.read_case", c) is listed, (user, c.reference)


def test_asking_a_permission_costs_no_query_once_the_roles_are_loaded(
    case, other_unit, django_assert_num_queries
):
    olga = make_user("olga", roles.DECISION_MAKER, other_unit)
    olga = type(olga).objects.get(pk=olga.pk)
    # The role groups and, for a worker of another unit, their emergency-access grants: each
    # once per user object.
    with django_assert_num_queries(2):
        olga.has_perm("cases.read_case", case)
    with django_assert_num_queries(0):
        assert not olga.has_perm("cases.read_case", case)
        for perm in ("cases.work_on_case", "cases.decide_case"):
            assert not olga.has_perm(perm, case)
            assert predicates.refusal(olga, perm, case) == OTHER_UNIT
        assert workflow.blocked_reason(case, "start_examination", olga) == OTHER_UNIT
