"""Every endpoint for every persona: alice (caseworker) and dora (decision-maker) of the
case's unit, oscar (another unit), adam (administrator: reads all, changes nothing), an
expired and a revoked token of alice's, and no token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases.models import CaseEvent, Note

from .conftest import Api, token_for

PERSONAS = ["alice", "dora", "oscar", "adam", "expired", "revoked", "none"]


@pytest.fixture
def as_persona(request, alice, dora, oscar, adam, expired_token, revoked_token):
    def client(name: str) -> Api:
        users = {"alice": alice, "dora": dora, "oscar": oscar, "adam": adam}
        if name in users:
            return Api(token_for(users[name]))
        return Api({"expired": expired_token, "revoked": revoked_token, "none": None}[name])

    return client


def _unauthorised(response):
    assert response.status_code == 401
    assert response.json()["detail"]


# (persona, expected status) for reading one case: its detail, events and notes.
READ_CASE = {
    "alice": 200,
    "dora": 200,
    "oscar": 404,
    "adam": 200,
    "expired": 401,
    "revoked": 401,
    "none": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", ["api:case", "api:case_events", "api:case_notes"])
def test_reading_a_case(as_persona, case, persona, url_name):
    before = CaseEvent.objects.filter(application=case, kind="access").count()
    response = as_persona(persona).get(reverse(url_name, args=[case.pk]))
    assert response.status_code == READ_CASE[persona], response.content
    assert response["Content-Type"] == "application/json"
    after = CaseEvent.objects.filter(application=case, kind="access").count()
    if response.status_code == 200:
        # Recorded as a view of the case, like the case page.
        assert after == before + 1
    else:
        assert after == before
        assert set(response.json()) == {"detail", "errors"}


def test_a_missing_case_answers_like_a_foreign_one(api_as, alice, oscar, case):
    foreign = api_as(oscar).get(reverse("api:case", args=[case.pk]))
    missing = api_as(oscar).get(reverse("api:case", args=[case.pk + 1000]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_the_case_says_what_the_user_may_do(api_as, alice, case):
    data = api_as(alice).get(reverse("api:case", args=[case.pk])).json()
    assert data["reference"] == case.reference
    assert data["status"] == "submitted"
    assert data["applicant"]["name_original"] == "Иван Королёв"
    assert data["applicant"]["nationality"] == "RU"
    options = {t["name"]: t for t in data["transitions"]}
    assert options["start_examination"]["allowed"] is True
    assert options["withdraw"]["allowed"] is True


def test_the_events_are_the_timeline(api_as, alice, case):
    rows = api_as(alice).get(reverse("api:case_events", args=[case.pk])).json()
    titles = [r["title"] for r in rows]
    assert titles[-1] == "Application registered"  # newest first, as on the case page
    assert "Deadline opened: Registration of the application, due 2023-08-17" in titles
    assert rows[-1]["actor"] == "Alice"
    assert all(r["kind"] != "access" for r in rows)


LIST = {
    "alice": 1,
    "dora": 1,
    "oscar": 1,  # his own unit's case, not alice's
    "adam": 2,
    "expired": None,
    "revoked": None,
    "none": None,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_case_list(as_persona, oscar, case, persona):
    from tests.conftest import submit

    submit(oscar, family_name="Petrov", given_names="Oleg", name_original="Олег Петров")
    response = as_persona(persona).get(reverse("api:cases"))
    if LIST[persona] is None:
        return _unauthorised(response)
    assert response.status_code == 200
    references = [r["reference"] for r in response.json()["results"]]
    assert len(references) == LIST[persona]
    assert (case.reference in references) == (persona != "oscar")


def test_the_list_searches_names_in_any_script(api_as, alice, case):
    from tests.conftest import submit

    submit(alice, family_name="Petrov", given_names="Oleg", name_original="Олег Петров")
    api = api_as(alice)
    for query in ["Королёв", "Korolev", "korolyov", case.reference]:
        results = api.get(reverse("api:cases"), {"q": query}).json()["results"]
        assert [r["reference"] for r in results] == [case.reference], query


def test_the_list_filters_and_refuses_bad_filter_values(api_as, alice, case):
    from tests.conftest import submit

    other = submit(alice, family_name="Petrov", given_names="Oleg", name_original="")
    api = api_as(alice)
    assert [
        r["id"] for r in api.get(reverse("api:cases"), {"status": "submitted"}).json()["results"]
    ] == [other.pk, case.pk]
    assert api.get(reverse("api:cases"), {"status": "decided"}).json()["results"] == []
    bad = api.get(reverse("api:cases"), {"status": "nonsense"})
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


def test_the_list_pages_with_a_cursor(api_as, alice):
    from tests.conftest import submit

    made = [submit(alice, family_name=f"Name{i}").pk for i in range(5)]
    api = api_as(alice)
    first = api.get(reverse("api:cases"), {"page_size": 2}).json()
    assert [r["id"] for r in first["results"]] == made[::-1][:2]
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == made[::-1][2:4]
    third = api.get(second["next"]).json()
    assert [r["id"] for r in third["results"]] == made[:1]
    assert third["next"] is None


# Starting the examination of a submitted case.
TRANSITION = {
    "alice": 200,
    "dora": 200,
    "oscar": 404,
    "adam": 403,
    "expired": 401,
    "revoked": 401,
    "none": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_running_a_transition(as_persona, case, persona):
    response = as_persona(persona).post(
        reverse("api:case_transition", args=[case.pk, "start_examination"]),
        {"expected_status": "submitted", "reason": "Complete file"},
    )
    assert response.status_code == TRANSITION[persona], response.content
    case.refresh_from_db()
    started = CaseEvent.objects.filter(application=case, action="start_examination").count()
    if response.status_code == 200:
        assert response.json()["status"] == "examination"
        assert case.status == "examination"
        assert started == 1
    else:
        assert case.status == "submitted"
        assert started == 0


def test_a_transition_refused_to_a_caseworker_says_why(api_as, alice, case):
    response = api_as(alice).post(
        reverse("api:case_transition", args=[case.pk, "decide"]),
        {"expected_status": "submitted", "reason": "x"},
    )
    assert response.status_code == 403
    assert response.json()["detail"]


def test_only_a_decision_maker_decides(api_as, alice, dora, build_case):
    case = build_case("examination")
    body = {
        "expected_status": "examination",
        "reason": "Assessed",
        "outcome": "rejected",
        "decided_on": "2023-10-02",
    }
    from cases import workflow

    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    url = reverse("api:case_transition", args=[case.pk, "decide"])
    refused = api_as(alice).post(url, body)
    assert refused.status_code == 403
    assert "decision-maker" in refused.json()["detail"]
    done = api_as(dora).post(url, body)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "decided"
    assert done.json()["decision_outcome"] == "rejected"


def test_a_stale_transition_is_409_and_changes_nothing(api_as, alice, case):
    response = api_as(alice).post(
        reverse("api:case_transition", args=[case.pk, "withdraw"]),
        {"expected_status": "examination", "reason": "Left", "kind": "explicit"},
    )
    assert response.status_code == 409
    assert "Nothing was changed" in response.json()["detail"]
    case.refresh_from_db()
    assert case.status == "submitted"


def test_bad_transition_input_is_400_with_field_errors(api_as, alice, build_case):
    case = build_case("examination")
    response = api_as(alice).post(
        reverse("api:case_transition", args=[case.pk, "detain"]),
        {"expected_status": "examination", "reason": "", "facility": 999999},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"reason", "facility", "legal_basis", "order_reference"} <= set(errors)
    case.refresh_from_db()
    assert case.status == "examination"


def test_an_unknown_transition_is_404(api_as, alice, case):
    response = api_as(alice).post(
        reverse("api:case_transition", args=[case.pk, "teleport"]),
        {"expected_status": "submitted", "reason": "x"},
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


NOTE = {
    "alice": 201,
    "dora": 201,
    "oscar": 404,
    "adam": 403,
    "expired": 401,
    "revoked": 401,
    "none": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_adding_a_note(as_persona, case, persona):
    response = as_persona(persona).post(
        reverse("api:case_notes", args=[case.pk]), {"text": "Called the lawyer."}
    )
    assert response.status_code == NOTE[persona], response.content
    assert Note.objects.filter(application=case).count() == (1 if NOTE[persona] == 201 else 0)
    if response.status_code == 201:
        assert response.json()["text"] == "Called the lawyer."


def test_an_empty_note_is_400(api_as, alice, case):
    response = api_as(alice).post(reverse("api:case_notes", args=[case.pk]), {"text": "  "})
    assert response.status_code == 400
    assert "text" in response.json()["errors"]


FACILITIES = {
    "alice": 200,
    "dora": 200,
    "oscar": 200,
    "adam": 200,
    "expired": 401,
    "revoked": 401,
    "none": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_facilities(as_persona, build_case, pabrade, persona):
    build_case("detention")
    response = as_persona(persona).get(reverse("api:facilities"))
    assert response.status_code == FACILITIES[persona]
    if response.status_code == 200:
        (facility,) = response.json()
        assert facility["code"] == "frc-pabrade"
        assert facility["capacity"] == 3
        assert facility["occupancy"] == {"detention": 1}
        assert facility["occupied"] == 1
        assert facility["free"] == 2


def test_a_user_without_a_case_role_is_403(db, unit):
    from tests.conftest import make_user

    nobody = make_user("norole", None, unit)
    response = Api(token_for(nobody)).get(reverse("api:cases"))
    assert response.status_code == 403
    assert response.json()["detail"]


def test_an_unknown_api_url_is_json_404(api_as, alice):
    response = api_as(alice).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_errors_follow_the_users_language(api_as, alice, case):
    alice.language = "lt"
    alice.save(update_fields=["language"])
    response = api_as(alice).post(
        reverse("api:case_transition", args=[case.pk, "withdraw"]),
        {"expected_status": "examination", "reason": "Left", "kind": "explicit"},
    )
    assert response.status_code == 409
    assert "Niekas nepakeista" in response.json()["detail"]


def test_errors_follow_accept_language(db, expired_token):
    response = Api(expired_token).get(reverse("api:cases"), **{"accept-language": "lt"})
    assert response.status_code == 401
    assert "baigėsi" in response.json()["detail"]


DEADLINES = {
    "alice": True,
    "dora": True,
    "oscar": False,
    "adam": True,
    "expired": None,
    "revoked": None,
    "none": None,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_deadlines(as_persona, case, persona):
    response = as_persona(persona).get(reverse("api:deadlines"), {"due_before": "2023-08-31"})
    if DEADLINES[persona] is None:
        return _unauthorised(response)
    assert response.status_code == 200
    results = response.json()["results"]
    if not DEADLINES[persona]:
        assert results == []
        return
    # Submitted on Friday 2023-08-11: registration within 3 working days, and 15 August
    # (Assumption Day) is a public holiday, so it is due on Thursday 2023-08-17.
    (registration,) = results
    assert registration["reference"] == case.reference
    assert registration["rule_name"] == "Registration of the application"
    assert registration["due_on"] == "2023-08-17"
    assert registration["status"] == "open"
    assert registration["overdue"] is True


def test_the_deadlines_filter_by_status_and_refuse_bad_dates(api_as, alice, case):
    api = api_as(alice)
    assert api.get(reverse("api:deadlines"), {"status": "met"}).json()["results"] == []
    opened = api.get(reverse("api:deadlines"), {"status": "open"}).json()["results"]
    assert [d["due_on"] for d in opened] == sorted(d["due_on"] for d in opened)
    # Submission opens registration and examination; the right to work is an entitlement.
    assert len(opened) == 2
    running = api.get(reverse("api:deadlines"), {"status": "entitlement"}).json()["results"]
    assert [d["due_on"] for d in running] == ["2024-02-11"]
    bad = api.get(reverse("api:deadlines"), {"due_before": "2023-02-30"})
    assert bad.status_code == 400
    assert "due_before" in bad.json()["errors"]


INTAKE = {
    "family_name": "Korolev",
    "given_names": "Ivan",
    "name_original": "Иван Королёв",
    "nationality": "RU",
    "sex": "male",
    "procedure": "regular",
    "submission_authority": "border_guard",
    "submitted_on": "2023-08-11",
    "grounds": ["political_opinion"],
    "assign_to_me": True,
}

INTAKE_ANSWER = {
    "alice": 201,
    "dora": 201,
    "oscar": 201,  # his own unit's case
    "adam": 403,  # administrators read cases, they do not open them
    "expired": 401,
    "revoked": 401,
    "none": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_intake(as_persona, alice, persona):
    from cases.models import Application

    response = as_persona(persona).post(reverse("api:cases"), INTAKE)
    assert response.status_code == INTAKE_ANSWER[persona], response.content
    assert Application.objects.count() == (1 if response.status_code == 201 else 0)
    if response.status_code == 201:
        data = response.json()
        assert data["status"] == "submitted"
        assert data["applicant"]["name_original"] == "Иван Королёв"
        assert data["assigned_to_name"] == persona.title()


def test_intake_warns_of_a_duplicate_then_links_or_adds(api_as, alice, case):
    from cases.models import Applicant, Application

    api = api_as(alice)
    body = {**INTAKE, "family_name": "Korolyov", "name_original": "Королёв Иван"}
    warned = api.post(reverse("api:cases"), body)
    assert warned.status_code == 409
    (candidate,) = warned.json()["candidates"]
    assert candidate["id"] == case.applicant_id
    assert candidate["cases"] == [case.reference]
    assert Application.objects.count() == 1
    wrong = api.post(reverse("api:cases"), {**body, "applicant": "999999"})
    assert wrong.status_code == 400
    assert "applicant" in wrong.json()["errors"]
    linked = api.post(reverse("api:cases"), {**body, "applicant": str(case.applicant_id)})
    assert linked.status_code == 201, linked.content
    assert Application.objects.get(pk=linked.json()["id"]).applicant_id == case.applicant_id
    added = api.post(reverse("api:cases"), {**body, "applicant": "new"})
    assert added.status_code == 201
    assert Applicant.objects.count() == 2


def test_intake_refuses_bad_input(api_as, alice):
    from cases.models import Application

    response = api_as(alice).post(
        reverse("api:cases"),
        {**INTAKE, "submitted_on": "2023-02-30", "grounds": "all", "assign_to_me": "yes"},
    )
    assert response.status_code == 400
    assert {"grounds", "assign_to_me"} <= set(response.json()["errors"])
    response = api_as(alice).post(reverse("api:cases"), {**INTAKE, "submitted_on": "2023-02-30"})
    assert response.status_code == 400
    assert "submitted_on" in response.json()["errors"]
    assert not Application.objects.exists()


def test_intake_refuses_dates_before_1900_or_in_the_future(api_as, alice):
    from cases.models import Application

    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    response = api_as(alice).post(
        reverse("api:cases"),
        {**INTAKE, "date_of_birth": "0104-04-02", "apprehended_on": tomorrow},
        **{"accept-language": "lt"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    errors = response.json()["errors"]
    assert set(errors) == {"date_of_birth", "apprehended_on"}
    assert "1900" in errors["date_of_birth"][0]
    assert errors["apprehended_on"] == ["Ši data yra ateityje."]
    assert not Application.objects.exists()


DOCUMENT_UPLOAD = {
    "alice": 201,
    "dora": 201,
    "oscar": 404,
    "adam": 403,
    "expired": 401,
    "revoked": 401,
    "none": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_documents(as_persona, media, alice, case, persona):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import Document

    api = as_persona(persona)
    upload = api.client.post(
        reverse("api:case_documents", args=[case.pk]),
        {
            "file": SimpleUploadedFile("statement.txt", b"I refused to fight.\n"),
            "description": "Statement",
        },
        headers=api.headers,
    )
    assert upload.status_code == DOCUMENT_UPLOAD[persona], upload.content
    assert Document.objects.count() == (1 if upload.status_code == 201 else 0)
    if upload.status_code != 201:
        return
    listed = api.get(reverse("api:case_documents", args=[case.pk])).json()
    assert [(d["name"], d["size"], d["content_type"]) for d in listed] == [
        ("statement.txt", 20, "text/plain; charset=utf-8")
    ]
    before = CaseEvent.objects.filter(application=case, kind="access", action="document").count()
    download = api.get(listed[0]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"I refused to fight.\n"
    after = CaseEvent.objects.filter(application=case, kind="access", action="document").count()
    assert after == before + 1


def test_a_refused_document_is_400(api_as, media, alice, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_as(alice)
    response = api.client.post(
        reverse("api:case_documents", args=[case.pk]),
        {"file": SimpleUploadedFile("run.exe", b"MZ\x90\x00\x03" + b"\x00" * 100)},
        headers=api.headers,
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_another_units_document_is_404(api_as, media, alice, oscar, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_as(alice)
    api.client.post(
        reverse("api:case_documents", args=[case.pk]),
        {"file": SimpleUploadedFile("a.txt", b"hello\n")},
        headers=api.headers,
    )
    url = api.get(reverse("api:case_documents", args=[case.pk])).json()[0]["download"]
    assert api_as(oscar).get(url).status_code == 404
