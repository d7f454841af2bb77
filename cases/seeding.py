"""Sample cases from case files in `seeds/`.

A case file (YAML or JSON) describes one case written from a source text. Every fact is a
mapping with `value` and either `quote` (words that must appear in the source text, checked
here) or `inferred` (where the fact comes from when the source does not state it).

`import_seeds(folder)` first reads and checks every file completely, naming the file and the
field of the first problem, and only then writes, in one transaction, walking each case
through `cases.workflow` so that its timeline is real. A case already imported (found by its
`key` on the submission event) is left alone, so a second run changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django_countries import countries

from accounts import roles
from accounts.models import Unit, User

from . import deadlines, workflow
from .models import Applicant, Application, CaseEvent, Document, Facility, Status

IMPORTER_USERNAME = "sample-import"
SUPPORTED_STEPS = ("start_examination", "detain", "release", "withdraw")
CASE_FILE_SUFFIXES = (".yaml", ".yml", ".json")


class SeedError(Exception):
    """A problem in a case file, naming the file and the field."""

    def __init__(self, path: Path | str, field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


class _NoTimestampLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad date can be reported by field."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _normalise(text: str) -> str:
    """Compare quotes loosely: typographic quotes and dashes, case and spacing ignored."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(
        str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
    )
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclasses.dataclass
class SeedCase:
    path: Path
    key: str
    article: Path
    unit_name: str
    facility: dict[str, Any] | None
    applicant: dict[str, Any]
    application: dict[str, Any]
    timeline: list[dict[str, Any]]
    documents: list[dict[str, Any]]


class _Reader:
    """Reads one parsed file, checking each fact and naming the field of any problem."""

    def __init__(self, path: Path, article_text: str | None) -> None:
        self.path = path
        self.article = _normalise(article_text) if article_text is not None else None

    def error(self, field: str, message: str) -> SeedError:
        return SeedError(self.path, field, message)

    def fact(self, block: Any, name: str, field: str, *, required: bool = False) -> Any:
        if not isinstance(block, dict):
            raise self.error(field.rsplit(".", 1)[0], "expected a mapping")
        raw = block.get(name)
        if raw is None:
            if required:
                raise self.error(field, "missing")
            return None
        if not isinstance(raw, dict) or "value" not in raw:
            raise self.error(field, "expected a mapping with 'value' and 'quote' or 'inferred'")
        quote, inferred = raw.get("quote"), raw.get("inferred")
        if not quote and not inferred:
            raise self.error(field, "give a 'quote' from the article or say how it is 'inferred'")
        if quote is not None:
            if not isinstance(quote, str) or not quote.strip():
                raise self.error(f"{field}.quote", "must be text")
            if self.article is not None and _normalise(quote) not in self.article:
                raise self.error(f"{field}.quote", f"not found in the article: {quote!r}")
        if inferred is not None and (not isinstance(inferred, str) or not inferred.strip()):
            raise self.error(f"{field}.inferred", "must be text")
        return raw["value"]

    def text(self, block, name, field, *, required=False, max_length=None) -> str:
        value = self.fact(block, name, field, required=required)
        if value is None:
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(field, "expected text")
        value = str(value).strip()
        if "\x00" in value:
            raise self.error(field, "contains a NUL character")
        if required and not value:
            raise self.error(field, "must not be empty")
        if max_length and len(value) > max_length:
            raise self.error(field, f"longer than {max_length} characters")
        return value

    def date(self, block, name, field, *, required=False) -> dt.date | None:
        value = self.fact(block, name, field, required=required)
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise self.error(field, f"{value!r} is not a date (write YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise self.error(field, f"{value} is not a valid date") from None

    def choice(self, block, name, field, choices, *, required=False, default="") -> str:
        value = self.fact(block, name, field, required=required)
        if value is None:
            return default
        if value not in choices:
            raise self.error(field, f"{value!r} is not one of {', '.join(map(str, choices))}")
        return value

    def text_list(self, block, name, field, *, choices=None) -> list[str]:
        value = self.fact(block, name, field)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "expected a list of texts")
        if choices is not None:
            for item in value:
                if item not in choices:
                    raise self.error(field, f"{item!r} is not one of {', '.join(choices)}")
        return [v.strip() for v in value if v.strip()]

    def integer(self, block, name, field, *, minimum=0, maximum=100_000) -> int:
        value = self.fact(block, name, field, required=True)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(field, f"{value!r} is not a whole number")
        if not minimum <= value <= maximum:
            raise self.error(field, f"must be between {minimum} and {maximum}")
        return value


def read_case_file(path: Path) -> SeedCase:
    """Parse and check one case file without touching the database."""
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(path, "", f"cannot be read: {exc}") from None
    try:
        if path.suffix == ".json":
            data = json.loads(raw_text)
        else:
            data = yaml.load(raw_text, Loader=_NoTimestampLoader)  # noqa: S506 - a SafeLoader
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SeedError(path, "", f"malformed {path.suffix.lstrip('.').upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise SeedError(path, "", "expected a mapping at the top level")

    key = data.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,60}", key):
        raise SeedError(path, "key", "give a short key in lower case letters, digits and '-'")
    article_name = data.get("article")
    if not isinstance(article_name, str) or "/" in article_name or article_name.startswith("."):
        raise SeedError(path, "article", "name the article file beside the case file")
    article = path.parent / article_name
    try:
        article_text = article.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(path, "article", f"{article_name} not found beside the case file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(path, "article", f"{article_name} cannot be read: {exc}") from None

    r = _Reader(path, article_text)
    unit_name = r.text(data, "unit", "unit", required=True, max_length=200)

    facility = None
    if data.get("facility") is not None:
        f = data["facility"]
        facility = {
            "code": r.text(f, "code", "facility.code", required=True, max_length=40),
            "name": r.text(f, "name", "facility.name", required=True, max_length=200),
            "kind": r.choice(f, "kind", "facility.kind", Facility.Kind.values, required=True),
            "operator": r.text(f, "operator", "facility.operator", max_length=200),
            "address": r.text(f, "address", "facility.address", max_length=300),
            "capacity": r.integer(f, "capacity", "facility.capacity"),
        }

    a = data.get("applicant")
    if not isinstance(a, dict):
        raise r.error("applicant", "missing")
    nationality = r.text(a, "nationality", "applicant.nationality", max_length=2).upper()
    if nationality and nationality not in dict(countries):
        raise r.error("applicant.nationality", f"{nationality!r} is not an ISO 3166 country code")
    applicant = {
        "family_name": r.text(
            a, "family_name", "applicant.family_name", required=True, max_length=150
        ),
        "given_names": r.text(a, "given_names", "applicant.given_names", max_length=150),
        "name_original": r.text(a, "name_original", "applicant.name_original", max_length=300),
        "aliases": "\n".join(r.text_list(a, "aliases", "applicant.aliases")),
        "date_of_birth": r.date(a, "date_of_birth", "applicant.date_of_birth"),
        "sex": r.choice(a, "sex", "applicant.sex", Applicant.Sex.values, default="unknown"),
        "nationality": nationality,
        "languages": r.text(a, "languages", "applicant.languages", max_length=200),
        "military_status": r.choice(
            a, "military_status", "applicant.military_status", Applicant.MilitaryStatus.values
        ),
        "military_rank": r.text(a, "military_rank", "applicant.military_rank", max_length=100),
        "military_unit": r.text(a, "military_unit", "applicant.military_unit", max_length=200),
        "military_background": r.text(a, "military_background", "applicant.military_background"),
    }

    p = data.get("application")
    if not isinstance(p, dict):
        raise r.error("application", "missing")
    application = {
        "procedure": r.choice(
            p, "procedure", "application.procedure", Application.Procedure.values, default="regular"
        ),
        "apprehended_on": r.date(p, "apprehended_on", "application.apprehended_on"),
        "apprehension_place": r.text(
            p, "apprehension_place", "application.apprehension_place", max_length=200
        ),
        "entered_on": r.date(p, "entered_on", "application.entered_on"),
        "submitted_on": r.date(p, "submitted_on", "application.submitted_on", required=True),
        "lodged_on": r.date(p, "lodged_on", "application.lodged_on"),
        "submission_place": r.text(
            p, "submission_place", "application.submission_place", max_length=200
        ),
        "submission_authority": r.choice(
            p,
            "submission_authority",
            "application.submission_authority",
            Application.Authority.values,
            default=Application.Authority.MIGRATION_DEPARTMENT,
        ),
        "grounds": r.text_list(
            p, "grounds", "application.grounds", choices=list(Application.Ground.values)
        ),
        "claim_summary": r.text(p, "claim_summary", "application.claim_summary"),
        "recorded_as_of": r.date(p, "recorded_as_of", "application.recorded_as_of"),
    }
    today = dt.date.today()
    for name in ("apprehended_on", "entered_on", "submitted_on", "lodged_on", "recorded_as_of"):
        if application[name] and application[name] > today:
            raise r.error(f"application.{name}", "is in the future")
    if application["lodged_on"] and application["lodged_on"] < application["submitted_on"]:
        raise r.error("application.lodged_on", "before the date the application was made")

    timeline = []
    steps = data.get("timeline") or []
    if not isinstance(steps, list):
        raise r.error("timeline", "expected a list of steps")
    for i, step in enumerate(steps):
        field = f"timeline[{i}]"
        if not isinstance(step, dict):
            raise r.error(field, "expected a mapping")
        name = step.get("transition")
        if name not in SUPPORTED_STEPS:
            raise r.error(
                f"{field}.transition", f"{name!r} is not one of {', '.join(SUPPORTED_STEPS)}"
            )
        entry = {
            "transition": name,
            "on": r.date(step, "date", f"{field}.date", required=True),
            "reason": r.text(step, "reason", f"{field}.reason", required=True, max_length=5000),
        }
        if entry["on"] < application["submitted_on"]:
            raise r.error(f"{field}.date", "before the date the application was made")
        if entry["on"] > today:
            raise r.error(f"{field}.date", "is in the future")
        if name == "detain":
            entry["facility"] = r.text(step, "facility", f"{field}.facility", required=True)
            if not (facility and facility["code"] == entry["facility"]) and not (
                Facility.objects.filter(code=entry["facility"]).exists()
            ):
                raise r.error(f"{field}.facility", f"unknown facility {entry['facility']!r}")
            entry["legal_basis"] = r.text(
                step, "legal_basis", f"{field}.legal_basis", required=True, max_length=300
            )
            entry["ordering_authority"] = r.text(
                step, "ordering_authority", f"{field}.ordering_authority", max_length=200
            )
            # May be empty: a case recorded after the fact may not know the order's number
            # (its provenance stays in the case file, never in the field).
            entry["order_reference"] = r.text(
                step, "order_reference", f"{field}.order_reference", max_length=100
            )
        if name == "withdraw":
            entry["kind"] = r.choice(
                step, "kind", f"{field}.kind", Application.Withdrawal.values, required=True
            )
        timeline.append(entry)

    documents = []
    docs = data.get("documents") or []
    if not isinstance(docs, list):
        raise r.error("documents", "expected a list")
    for i, doc in enumerate(docs):
        field = f"documents[{i}]"
        if not isinstance(doc, dict) or not isinstance(doc.get("file"), str):
            raise r.error(f"{field}.file", "name a file beside the case file")
        name = doc["file"]
        if "/" in name or "\\" in name or name.startswith("."):
            raise r.error(f"{field}.file", "must be a file name in the seeds folder")
        doc_path = path.parent / name
        if not doc_path.is_file():
            raise r.error(f"{field}.file", f"{name} not found beside the case file")
        documents.append(
            {
                "path": doc_path,
                "description": r.text(doc, "description", f"{field}.description", max_length=300),
                "title": r.text(doc, "title", f"{field}.title", max_length=200),
                "kind": r.choice(
                    doc, "kind", f"{field}.kind", Document.Kind.values, default="other"
                ),
            }
        )

    return SeedCase(
        path=path,
        key=key,
        article=article,
        unit_name=unit_name,
        facility=facility,
        applicant=applicant,
        application=application,
        timeline=timeline,
        documents=documents,
    )


def case_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise SeedError(folder, "", "folder not found")
    return sorted(p for p in folder.iterdir() if p.suffix in CASE_FILE_SUFFIXES and p.is_file())


def find_imported(key: str) -> Application | None:
    event = (
        CaseEvent.objects.filter(action="submit", data__seed=key)
        .select_related("application")
        .first()
    )
    return event.application if event else None


def _importer(unit: Unit) -> User:
    """The account that the import acts as: it has the roles the transitions need in the unit,
    and no usable password (nobody signs in as it)."""
    user, created = User.objects.get_or_create(
        username=IMPORTER_USERNAME,
        defaults={"first_name": "Sample-case", "last_name": "import", "unit": unit},
    )
    if created:
        user.set_unusable_password()
        user.groups.add(*Group.objects.filter(name__in=[roles.CASEWORKER, roles.DECISION_MAKER]))
    # Active, in the case's unit, only for the length of the import (see `import_seeds`), so
    # that it never receives reminders nor is offered as an assignee.
    user.unit = unit
    user.is_active = True
    user.save()
    return user


def _walk(seed: SeedCase, actor: User, unit: Unit) -> Application:
    try:
        case = workflow.submit_application(
            actor=actor,
            applicant_data=seed.applicant,
            unit=unit,
            source=seed.key,
            **seed.application,
        )
    except ValidationError as exc:
        raise _as_seed_error(seed.path, exc, "applicant") from None
    for i, step in enumerate(seed.timeline):
        name = step["transition"]
        kwargs: dict[str, Any] = {}
        if name == "detain":
            kwargs = {
                "facility": Facility.objects.get(code=step["facility"]),
                "legal_basis": step["legal_basis"],
                "ordering_authority": step["ordering_authority"],
                "order_reference": step["order_reference"],
            }
        elif name == "withdraw":
            kwargs = {"kind": step["kind"]}
        elif name == "start_examination":
            # The import account acts; it must not become the case's caseworker.
            kwargs = {"self_assign": False}
        try:
            case = workflow.TRANSITIONS[name](
                case,
                actor=actor,
                expected_status=case.status,
                reason=step["reason"],
                at=deadlines.at_noon(step["on"]),
                **kwargs,
            )
        except (ValidationError, workflow.WorkflowError) as exc:
            raise _as_seed_error(seed.path, exc, f"timeline[{i}]") from None
    for i, doc in enumerate(seed.documents):
        with doc["path"].open("rb") as handle:
            try:
                workflow.add_document(
                    case,
                    actor=actor,
                    file=File(handle, name=doc["path"].name),
                    original_name=doc["path"].name,
                    description=doc["description"],
                    kind=doc["kind"],
                    title=doc["title"],
                )
            except ValidationError as exc:
                raise _as_seed_error(seed.path, exc, f"documents[{i}]") from None
    return case


def _as_seed_error(path: Path, exc: Exception, prefix: str) -> SeedError:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        field, messages = next(iter(exc.message_dict.items()))
        return SeedError(path, f"{prefix}.{field}", "; ".join(messages))
    if isinstance(exc, workflow.WorkflowError):
        return SeedError(path, prefix, exc.message)
    return SeedError(path, prefix, "; ".join(getattr(exc, "messages", [str(exc)])))


@dataclasses.dataclass
class ImportResult:
    path: Path
    reference: str
    created: bool
    status: str


def import_seeds(folder: Path) -> list[ImportResult]:
    """Check every case file in `folder`, then import those not yet imported, all or none."""
    seeds = [read_case_file(path) for path in case_files(folder)]
    results: list[ImportResult] = []
    with transaction.atomic():
        for seed in seeds:
            existing = find_imported(seed.key)
            if existing is not None:
                results.append(ImportResult(seed.path, existing.reference, False, existing.status))
                continue
            unit, _created = Unit.objects.get_or_create(name=seed.unit_name)
            if seed.facility and not Facility.objects.filter(code=seed.facility["code"]).exists():
                facility = Facility(**seed.facility)
                try:
                    facility.full_clean()
                except ValidationError as exc:
                    raise _as_seed_error(seed.path, exc, "facility") from None
                facility.save()
            importer = _importer(unit)
            case = _walk(seed, importer, unit)
            importer.is_active = False
            importer.save(update_fields=["is_active"])
            results.append(ImportResult(seed.path, case.reference, True, case.status))
    return results


__all__ = ["SeedError", "Status", "find_imported", "import_seeds", "read_case_file"]
