"""`python manage.py import_seed`: the sample case, idempotence, and bad case files."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Unit
from cases.audit import verify_chain
from cases.models import Application, CaseEvent, Deadline, Facility, Placement

SEEDS = Path(settings.BASE_DIR) / "seeds"
ARTICLE = "000_2ae32ac5df5f4f9d.txt"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def import_seed(*args) -> str:
    out = io.StringIO()
    call_command("import_seed", *args, stdout=out)
    return out.getvalue()


def test_the_article_is_kept_exactly_as_shared():
    shared = Path(settings.BASE_DIR).parent / "shared" / "seeds" / ARTICLE
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert (SEEDS / ARTICLE).read_bytes() == shared.read_bytes()


@pytest.mark.django_db
def test_it_imports_the_sample_case():
    output = import_seed()

    case = Application.objects.select_related("applicant", "unit").get()
    assert f"Imported: {case.reference} (detention)" in output
    assert case.status == "detention"
    assert case.unit.name == "Migration Department, Asylum Division"
    applicant = case.applicant
    assert (applicant.given_names, applicant.family_name) == ("Ivan", "Korolev")
    assert applicant.name_original == "Иван Королёв"
    assert applicant.nationality == "RU"
    assert applicant.military_rank == "Lieutenant"
    assert "59313-39" in applicant.military_unit
    assert case.apprehended_on == dt.date(2023, 8, 10)
    assert case.submitted_on == dt.date(2023, 8, 11)
    assert case.lodged_on == dt.date(2023, 8, 11)
    assert set(case.grounds) == {"political_opinion", "military_service"}

    placement = case.open_detention()
    assert placement.facility.code == "frc-pabrade"
    assert placement.facility.name == "Foreigners' Registration Centre, Pabradė"
    assert placement.regime == Placement.Regime.DETENTION
    assert placement.starts_at.astimezone(dt.UTC) == dt.datetime(2023, 8, 11, 9, 0, tzinfo=dt.UTC)

    actions = list(case.events.order_by("pk").values_list("action", flat=True))
    transitions = [a for a in actions if a in {"submit", "start_examination", "detain"}]
    assert transitions == ["submit", "start_examination", "detain"]
    assert verify_chain(case.pk).problem is None

    document = case.documents.get()
    assert document.original_name == ARTICLE
    assert document.sha256 == hashlib.sha256((SEEDS / ARTICLE).read_bytes()).hexdigest()

    open_rules = set(case.deadlines.open().values_list("rule", flat=True))
    assert {"examination", "detention-48h", "restriction-cap"} <= open_rules
    examination = case.deadlines.get(rule="examination")
    assert examination.due_on == dt.date(2024, 2, 11)
    # 48 hours from the apprehension (10 August, 12:00), not from the detention record.
    assert case.deadlines.get(rule="detention-48h").due_on == dt.date(2023, 8, 12)


def _snapshot() -> str:
    out = io.StringIO()
    call_command(
        "dumpdata",
        "accounts",
        "cases",
        "auth.group",
        stdout=out,
        exclude=["cases.applicanthistory", "cases.applicationhistory"],
    )
    return out.getvalue()


@pytest.mark.django_db
def test_a_second_import_changes_nothing():
    import_seed()
    before = _snapshot()

    output = import_seed()

    assert "Already imported" in output
    assert _snapshot() == before
    assert Application.objects.count() == 1


def _copy_seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


def _nothing_written() -> None:
    assert not Application.objects.exists()
    assert not Facility.objects.exists()
    assert not Unit.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not Deadline.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "value: 2023-08-11\n    quote: political asylum",
            "value: 2023-02-30\n    quote: political asylum",
            "application.submitted_on",
            "2023-02-30 is not a valid date",
        ),
        (
            "    facility:\n      value: frc-pabrade",
            "    facility:\n      value: frc-nowhere",
            "timeline[1].facility",
            "unknown facility 'frc-nowhere'",
        ),
        (
            "quote: Russian Lieutenant Ivan Korolev\n  given_names",
            "quote: Russian General Ivan Korolev\n  given_names",
            "applicant.family_name.quote",
            "not found in the article",
        ),
        ("value: RU", "value: XX", "applicant.nationality", "'XX' is not an ISO 3166 country"),
    ],
)
def test_it_refuses_a_bad_fact_naming_file_and_field(tmp_path, old, new, field, message):
    folder = _copy_seeds(tmp_path)
    path = folder / "korolev.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        import_seed("--folder", str(folder))

    assert f"korolev.yaml: {field}: {message}" in str(refused.value)
    assert "Nothing was imported" in str(refused.value)
    _nothing_written()


@pytest.mark.django_db
def test_it_refuses_malformed_yaml(tmp_path):
    folder = _copy_seeds(tmp_path)
    (folder / "korolev.yaml").write_text("key: [unclosed\n  applicant: {", encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        import_seed("--folder", str(folder))

    assert "korolev.yaml: malformed YAML" in str(refused.value)
    _nothing_written()


@pytest.mark.django_db
def test_it_refuses_malformed_json(tmp_path):
    folder = _copy_seeds(tmp_path)
    (folder / "broken.json").write_text('{"key": "x", ', encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        import_seed("--folder", str(folder))

    assert "broken.json: malformed JSON" in str(refused.value)
    _nothing_written()


@pytest.mark.django_db
def test_it_refuses_a_missing_article(tmp_path):
    folder = _copy_seeds(tmp_path)
    (folder / ARTICLE).unlink()

    with pytest.raises(CommandError) as refused:
        import_seed("--folder", str(folder))

    assert f"korolev.yaml: article: {ARTICLE} not found" in str(refused.value)
    _nothing_written()


@pytest.mark.django_db
def test_it_refuses_a_missing_folder(tmp_path):
    with pytest.raises(CommandError) as refused:
        import_seed("--folder", str(tmp_path / "nowhere"))
    assert "folder not found" in str(refused.value)


@pytest.mark.django_db
def test_a_second_bad_file_leaves_the_first_unimported(tmp_path):
    folder = _copy_seeds(tmp_path)
    text = (folder / "korolev.yaml").read_text(encoding="utf-8")
    (folder / "zz-second.yaml").write_text(
        text.replace("key: korolev-2023", "key: second").replace("value: male", "value: robot"),
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as refused:
        import_seed("--folder", str(folder))

    assert "zz-second.yaml: applicant.sex: 'robot' is not one of" in str(refused.value)
    _nothing_written()


@pytest.mark.django_db
def test_it_imports_a_json_case_file(tmp_path):
    import json

    import yaml

    folder = _copy_seeds(tmp_path)
    data = yaml.load(
        (folder / "korolev.yaml").read_text(encoding="utf-8"),
        Loader=yaml.BaseLoader,  # noqa: S506 - strings only
    )
    (folder / "korolev.yaml").unlink()
    data["facility"]["capacity"]["value"] = 180
    (folder / "korolev.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    output = import_seed("--folder", str(folder))

    assert "Imported" in output
    assert Application.objects.get().status == "detention"


@pytest.mark.django_db
def test_the_import_account_is_left_inactive_and_unassigned():
    from accounts.models import User
    from cases.seeding import IMPORTER_USERNAME

    import_seed()

    importer = User.objects.get(username=IMPORTER_USERNAME)
    assert not importer.is_active
    assert not importer.has_usable_password()
    assert Application.objects.get().assigned_to is None


@pytest.mark.django_db
def test_demo_users_get_the_sample_case(settings):
    settings.DEBUG = True
    import_seed()
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    assert "haven-demo-caseworker" in out.getvalue()
    case = Application.objects.get()
    assert case.assigned_to.username == "caseworker"
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("create_demo_users", stdout=io.StringIO())
