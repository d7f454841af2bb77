"""The lists of a unit's staff (who a case is assigned to, who interviews): kept in the shared
cache (Redis here), yet always the people who may be chosen now: a rename, a deactivation, a
move to another unit, a change of role or a new colleague shows on the next page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext

from accounts import roles
from cases import forms
from cases.filters import ApplicationFilter
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def options(form, field: str) -> dict[str, str]:
    """value -> label of the field's <option>s as the page writes them."""
    select = parse_html(str(form[field]))  # the <select> itself, the only element
    assert select.name == "select"
    return {dict(o.attributes)["value"]: o.children[0] if o.children else "" for o in select}


def assign_options(unit) -> dict[str, str]:
    return options(forms.AssignForm(unit_id=unit.pk), "assignee")


def test_the_unit_s_list_follows_every_change_of_its_people(unit, other_unit, alice, dora, oscar):
    listed = assign_options(unit)
    assert listed == {"": "Nobody (unassign)", str(alice.pk): "Alice", str(dora.pk): "Dora"}

    alice.first_name, alice.last_name = "Alicija", "Petraitė"
    alice.save()
    assert assign_options(unit)[str(alice.pk)] == "Alicija Petraitė"

    newcomer = make_user("nina", roles.CASEWORKER, unit)
    assert str(newcomer.pk) in assign_options(unit)

    newcomer.is_active = False
    newcomer.save(update_fields=["is_active"])
    assert str(newcomer.pk) not in assign_options(unit)

    dora.groups.remove(Group.objects.get(name=roles.DECISION_MAKER))
    assert str(dora.pk) not in assign_options(unit)

    oscar.unit = unit
    oscar.save()
    assert str(oscar.pk) in assign_options(unit)
    assert str(oscar.pk) not in assign_options(other_unit)

    alice.delete()
    assert set(assign_options(unit)) == {"", str(oscar.pk)}


@pytest.mark.django_db(transaction=True)  # kept only once the users are committed
def test_a_sign_in_does_not_throw_the_lists_away(client, unit, alice, dora):
    assign_options(unit)
    client.force_login(alice)  # stamps last_login
    with CaptureQueriesContext(connection) as queries:
        assert str(alice.pk) in assign_options(unit)
    assert not [q for q in queries if "accounts_user" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_the_list_is_read_once_and_the_choice_is_still_judged_now(unit, alice, dora):
    assign_options(unit)
    with CaptureQueriesContext(connection) as queries:
        assign_options(unit)
    assert not [q for q in queries if "accounts_user" in q["sql"]]

    # A stale list cannot make a choice valid: what is sent is judged against the database.
    form = forms.AssignForm({"assignee": str(alice.pk)}, unit_id=unit.pk)
    assert form.is_valid() and form.cleaned_data["assignee"] == alice
    alice.is_active = False
    alice.save()
    form = forms.AssignForm({"assignee": str(alice.pk)}, unit_id=unit.pk)
    assert not form.is_valid() and "assignee" in form.errors


def test_the_case_list_filter_offers_the_same_people(rf, unit, alice, dora, oscar, adam):
    for user, expected in ((dora, {alice, dora}), (adam, {alice, dora, oscar})):
        request = rf.get("/cases/")
        request.user = user
        offered = dict(
            ApplicationFilter(request.GET, request=request).form["assigned"].field.choices
        )
        assert {k for k in offered if k not in ("", "me", "none")} == {str(u.pk) for u in expected}


def test_without_the_cache_the_lists_are_read_from_the_database(settings, unit, alice, dora):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        }
    }
    assert set(assign_options(unit)) == {"", str(alice.pk), str(dora.pk)}


def test_the_interview_form_on_the_case_page_follows_the_unit_s_staff(client, unit, alice, dora):
    from cases import workflow
    from tests.conftest import submit

    case = workflow.start_examination(
        submit(alice), actor=alice, expected_status="submitted", reason="Go"
    )
    client.force_login(alice)
    url = f"/cases/{case.pk}/"

    def interviewers() -> set[str]:
        page = client.get(url).content.decode()
        select = page.split('name="interviewer"', 1)[1].split("</select>", 1)[0]
        return set(re.findall(r'<option value="(\d+)"', select))

    assert interviewers() == {str(alice.pk), str(dora.pk)}
    assert interviewers() == {str(alice.pk), str(dora.pk)}  # from the cache, the same
    newcomer = make_user("nina", roles.CASEWORKER, unit)
    assert interviewers() == {str(alice.pk), str(dora.pk), str(newcomer.pk)}
    dora.is_active = False
    dora.save()
    assert interviewers() == {str(alice.pk), str(newcomer.pk)}
