"""The asylum-case domain: applicants, applications (cases), facilities, placements,
the append-only case timeline, statutory deadlines and their reminders.

The state graph of a case is declared here, on `Application`, with django-fsm transitions
(source, target, permission, conditions), so that it can be introspected and drawn. What a
transition does beyond changing the state (placements, events, deadlines, notifications)
lives in `cases.workflow`, which is the only caller of the transition methods.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import uuid
from zoneinfo import ZoneInfo

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition

from accounts.models import Unit

from .names import search_key

VILNIUS = ZoneInfo("Europe/Vilnius")

# ---------------------------------------------------------------------------------------------
# Stored counts
# ---------------------------------------------------------------------------------------------


def keeps_counts(counts_table: str, keys: tuple[str, ...], column: str, counted: str) -> str:
    """The body of a row trigger that keeps `counts_table` (one row per value of `keys`, the
    count in `column`) equal to the number of rows of the triggering table for which
    `counted` (an expression over the row, written with `{row}`) holds.

    A row that comes in, goes out or changes key moves one count down and another up; other
    updates write nothing. It runs in the writing transaction, so the counts commit or roll
    back with the rows. Pages then read a handful of count rows instead of counting
    hundreds of thousands of rows on every request.
    """
    old, new = counted.format(row="OLD"), counted.format(row="NEW")
    where = " AND ".join(f"{k} = OLD.{k}" for k in keys)
    moved = " OR ".join(f"NEW.{k} IS DISTINCT FROM OLD.{k}" for k in keys)
    names, values = ", ".join(keys), ", ".join(f"NEW.{k}" for k in keys)
    old_keys = ", ".join(f"OLD.{k}" for k in keys)
    new_keys = values
    # Identifiers written in this module, at import time; no input reaches this SQL.
    down = f"UPDATE {counts_table} SET {column} = {column} - 1 WHERE {where};"  # noqa: S608
    up = (
        f"INSERT INTO {counts_table} ({names}, {column}) VALUES ({values}, 1) "  # noqa: S608
        f"ON CONFLICT ({names}) DO UPDATE SET {column} = {counts_table}.{column} + 1;"
    )
    return f"""
    IF TG_OP = 'DELETE' THEN
        IF {old} THEN {down} END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF {new} THEN {up} END IF;
    ELSIF ({old}) IS DISTINCT FROM ({new}) OR {moved} THEN
        -- Two count rows, locked in key order: two cases moving in opposite directions
        -- (examination -> detention, detention -> examination) must not lock them in
        -- opposite orders and deadlock.
        IF ROW({old_keys}) < ROW({new_keys}) THEN
            IF {old} THEN {down} END IF;
            IF {new} THEN {up} END IF;
        ELSE
            IF {new} THEN {up} END IF;
            IF {old} THEN {down} END IF;
        END IF;
    END IF;
    RETURN NULL;
"""


# The live open deadlines by unit, assignee and due day (`DueCount`): a deadline counts while
# it is open on a live case (`Application.recorded_as_of` empty), under its case's unit and
# assignee (0: nobody) and the day of its `due_at` in Vilnius, and in its unit's row for
# everyone (assignee -1, `DueCount.ANYONE`). Count rows are locked in the order (day, unit,
# assignee) everywhere, so that two moves in opposite directions do not deadlock.
# Identifiers written here, at import time; no input reaches this SQL.


def deadline_moves_counts(
    *,
    watched: tuple[str, ...],
    counted: str,
    case: str,
    day: str,
    keys: tuple[str, ...],
    up: str,
    down: str,
) -> str:
    """The body of a row trigger on `Deadline` that keeps a table of counts by a day of the
    deadline and keys of its case: a deadline for which `counted` holds (over `{row}`) counts
    under its keys; one that comes in, goes out or changes keys moves one count down and
    another up. Nothing is done unless a `watched` column changes.

    `case` reads the case's keys into `{side}_<key>` and sets `{side}_on` (whether the row
    counts at all); `day` is the day's expression over `{row}`; `up` and `down` add and remove
    one under `{side}_<key>`. Count rows are locked in the order of `keys`, so that two moves
    in opposite directions do not deadlock. `{side}` is `old` or `new`, `{row}` `OLD` or `NEW`.
    """
    unchanged = "\n            AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in watched)
    old_key, new_key = (", ".join(f"{side}_{k}" for k in keys) for side in ("old", "new"))

    def read(side: str, row: str, skip: str) -> str:
        return f"""IF TG_OP <> '{skip}' AND {counted.format(row=row)} THEN
        {case.format(side=side, row=row)}
        {side}_day := {day.format(row=row)};
    END IF;"""

    # A count only ever moves from the old keys to the new ones.
    new_up, old_down = up.format(side="new"), down.format(side="old")
    return f"""
    IF TG_OP = 'UPDATE' AND {unchanged} THEN
        RETURN NULL;
    END IF;
    old_on := FALSE;
    new_on := FALSE;
    {read("old", "OLD", "INSERT")}
    {read("new", "NEW", "DELETE")}
    IF old_on AND new_on AND ROW({old_key}) = ROW({new_key}) THEN
        RETURN NULL;
    END IF;
    IF new_on AND (NOT old_on OR ROW({new_key}) < ROW({old_key})) THEN
        {new_up}
        IF old_on THEN
            {old_down}
        END IF;
    ELSE
        IF old_on THEN
            {old_down}
        END IF;
        IF new_on THEN
            {new_up}
        END IF;
    END IF;
    RETURN NULL;
"""


_DUE_DAY = "(({row}.due_at AT TIME ZONE 'Europe/Vilnius')::date)"
_DUE_UP = (
    "INSERT INTO cases_duecount (unit_id, assignee, due_day, deadlines) "
    "VALUES ({unit}, -1, {day}, {n}), ({unit}, {who}, {day}, {n}) "
    "ON CONFLICT (unit_id, assignee, due_day) "
    "DO UPDATE SET deadlines = cases_duecount.deadlines + EXCLUDED.deadlines;"
)
_DUE_DOWN = (
    "UPDATE cases_duecount SET deadlines = deadlines - {n} "
    "WHERE unit_id = {unit} AND assignee IN (-1, {who}) AND due_day = {day};"
)

# On `Deadline`: an open deadline that comes in, goes out (met, missed, waived, cancelled,
# deleted) or moves to another day moves one count down and another up.
DEADLINE_KEEPS_DUE_COUNTS = deadline_moves_counts(
    watched=("status", "due_at", "application_id"),
    counted="{row}.status = 'open'",
    case="""SELECT unit_id, COALESCE(assigned_to_id, 0), recorded_as_of IS NULL
            INTO {side}_unit, {side}_who, {side}_on FROM cases_application
            WHERE id = {row}.application_id;
        {side}_on := COALESCE({side}_on, FALSE);""",
    day=_DUE_DAY,
    keys=("day", "unit", "who"),
    up=_DUE_UP.format(unit="{side}_unit", who="{side}_who", day="{side}_day", n=1),
    down=_DUE_DOWN.format(unit="{side}_unit", who="{side}_who", day="{side}_day", n=1),
)
DEADLINE_KEEPS_DUE_COUNTS_DECLARE = [
    ("old_unit", "bigint"),
    ("old_who", "bigint"),
    ("old_day", "date"),
    ("old_on", "boolean"),
    ("new_unit", "bigint"),
    ("new_who", "bigint"),
    ("new_day", "date"),
    ("new_on", "boolean"),
]

# On `Application`: a case moved to another unit or assignee, or becoming history or live
# (`recorded_as_of`), moves the counts of its open deadlines, day by day.
APPLICATION_MOVES_DUE_COUNTS = f"""
    old_on := OLD.recorded_as_of IS NULL;
    new_on := NEW.recorded_as_of IS NULL;
    old_who := COALESCE(OLD.assigned_to_id, 0);
    new_who := COALESCE(NEW.assigned_to_id, 0);
    FOR day IN
        SELECT {_DUE_DAY.format(row="cases_deadline")} AS due_day, count(*) AS n
        FROM cases_deadline WHERE application_id = NEW.id AND status = 'open'
        GROUP BY 1 ORDER BY 1
    LOOP
        IF new_on AND (NOT old_on
                OR ROW(NEW.unit_id, new_who) < ROW(OLD.unit_id, old_who)) THEN
            {_DUE_UP.format(unit="NEW.unit_id", who="new_who", day="day.due_day", n="day.n")}
            IF old_on THEN
                {_DUE_DOWN.format(unit="OLD.unit_id", who="old_who", day="day.due_day", n="day.n")}
            END IF;
        ELSE
            IF old_on THEN
                {_DUE_DOWN.format(unit="OLD.unit_id", who="old_who", day="day.due_day", n="day.n")}
            END IF;
            IF new_on THEN
                {_DUE_UP.format(unit="NEW.unit_id", who="new_who", day="day.due_day", n="day.n")}
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
"""  # noqa: S608
APPLICATION_MOVES_DUE_COUNTS_DECLARE = [
    ("day", "record"),
    ("old_who", "bigint"),
    ("new_who", "bigint"),
    ("old_on", "boolean"),
    ("new_on", "boolean"),
]

# The deadlines missed (closed late) by unit and the day they were closed in Vilnius
# (`MissedCount`): the decision-makers' "missed in the last 30 days". Count rows are locked in
# the order (day, unit) everywhere. Identifiers written here; no input reaches this SQL.
_CLOSED_DAY = "(({row}.closed_at AT TIME ZONE 'Europe/Vilnius')::date)"
_MISSED_UP = (
    "INSERT INTO cases_missedcount (unit_id, closed_day, deadlines) VALUES ({unit}, {day}, {n}) "
    "ON CONFLICT (unit_id, closed_day) "
    "DO UPDATE SET deadlines = cases_missedcount.deadlines + EXCLUDED.deadlines;"
)
_MISSED_DOWN = (
    "UPDATE cases_missedcount SET deadlines = deadlines - {n} "
    "WHERE unit_id = {unit} AND closed_day = {day};"
)

# On `Deadline`: a deadline that becomes missed, stops being missed (a correction), is closed
# on another day, moves to another case or is deleted moves one count down and another up.
DEADLINE_KEEPS_MISSED_COUNTS = deadline_moves_counts(
    watched=("status", "closed_at", "application_id"),
    counted="{row}.status = 'missed' AND {row}.closed_at IS NOT NULL",
    case="""SELECT unit_id INTO {side}_unit FROM cases_application
            WHERE id = {row}.application_id;
        {side}_on := {side}_unit IS NOT NULL;""",
    day=_CLOSED_DAY,
    keys=("day", "unit"),
    up=_MISSED_UP.format(unit="{side}_unit", day="{side}_day", n=1),
    down=_MISSED_DOWN.format(unit="{side}_unit", day="{side}_day", n=1),
)
DEADLINE_KEEPS_MISSED_COUNTS_DECLARE = [
    ("old_unit", "bigint"),
    ("old_day", "date"),
    ("old_on", "boolean"),
    ("new_unit", "bigint"),
    ("new_day", "date"),
    ("new_on", "boolean"),
]

# On `Application`: a case moved to another unit moves the counts of its missed deadlines.
APPLICATION_MOVES_MISSED_COUNTS = f"""
    FOR day IN
        SELECT {_CLOSED_DAY.format(row="cases_deadline")} AS closed_day, count(*) AS n
        FROM cases_deadline
        WHERE application_id = NEW.id AND status = 'missed' AND closed_at IS NOT NULL
        GROUP BY 1 ORDER BY 1
    LOOP
        IF NEW.unit_id < OLD.unit_id THEN
            {_MISSED_UP.format(unit="NEW.unit_id", day="day.closed_day", n="day.n")}
            {_MISSED_DOWN.format(unit="OLD.unit_id", day="day.closed_day", n="day.n")}
        ELSE
            {_MISSED_DOWN.format(unit="OLD.unit_id", day="day.closed_day", n="day.n")}
            {_MISSED_UP.format(unit="NEW.unit_id", day="day.closed_day", n="day.n")}
        END IF;
    END LOOP;
    RETURN NULL;
"""  # noqa: S608


# ---------------------------------------------------------------------------------------------
# Facilities
# ---------------------------------------------------------------------------------------------


class NamedQuerySet(models.QuerySet):
    """Rows whose names pages read through the shared cache (`cases.reference`): a bulk
    change, which sends no signal, replaces the cached names as a save does."""

    def update(self, **kwargs):
        return self._changed(super().update(**kwargs))

    def bulk_create(self, *args, **kwargs):
        return self._changed(super().bulk_create(*args, **kwargs))

    def bulk_update(self, *args, **kwargs):
        return self._changed(super().bulk_update(*args, **kwargs))

    @staticmethod
    def _changed(result):
        # After the change, as the signals of a save: outside a transaction the cached names
        # are replaced once the rows are written, not before (a read in between would keep
        # the old names again).
        from .reference import REFERENCE

        REFERENCE.changed()
        return result


class Facility(models.Model):
    class Kind(models.TextChoices):
        RECEPTION = "reception", _("Reception centre")
        DETENTION = "detention", _("Detention centre")
        MIXED = "mixed", _("Reception and detention")

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    operator = models.CharField(_("operator"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"), validators=[MaxValueValidator(100_000)], help_text=_("Number of places.")
    )
    is_active = models.BooleanField(_("in use"), default=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self) -> str:
        return self.name

    def current_placements(self):
        return self.placements.filter(ends_at__isnull=True)

    def occupancy(self) -> int:
        """Places taken now (open placements of any regime)."""
        return sum(occupancy_by_regime(self.pk).get(self.pk, {}).values())

    def has_free_place(self) -> bool:
        return self.occupancy() < self.capacity


# ---------------------------------------------------------------------------------------------
# Applicants
# ---------------------------------------------------------------------------------------------


def person_name(given_names: str, family_name: str) -> str:
    """A person's name as the pages write it: given names, then the family name in capitals."""
    return " ".join(p for p in (given_names, family_name.upper()) if p)


@pghistory.track(
    exclude=["search_key"],
    model_name="ApplicantHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history", db_constraint=False),
)
class Applicant(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class IdentityDocument(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        ID_CARD = "id_card", _("Identity card")
        TRAVEL = "travel", _("Travel document")
        RESIDENCE = "residence", _("Residence permit")
        OTHER = "other", _("Other document")

    class MilitaryStatus(models.TextChoices):
        CONSCRIPT = "conscript", _("Conscript")
        CONTRACT = "contract", _("Contract soldier")
        OFFICER = "officer", _("Officer")
        RESERVIST = "reservist", _("Reservist")

    family_name = models.CharField(_("family name (Latin script)"), max_length=150)
    given_names = models.CharField(_("given names (Latin script)"), max_length=150, blank=True)
    name_original = models.CharField(_("name in original script"), max_length=300, blank=True)
    aliases = models.TextField(
        _("aliases"), blank=True, help_text=_("Other names or spellings, one per line.")
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    nationality = CountryField(
        _("nationality"), blank=True, help_text=_("Leave empty if stateless or unknown.")
    )
    # Without a nationality, whether the person is stateless or their nationality is unknown
    # (two different legal situations).
    stateless = models.BooleanField(_("stateless"), default=False)
    languages = models.CharField(_("languages"), max_length=200, blank=True)
    military_status = models.CharField(
        _("military status"), max_length=20, choices=MilitaryStatus.choices, blank=True
    )
    military_rank = models.CharField(_("military rank"), max_length=100, blank=True)
    military_unit = models.CharField(_("military unit"), max_length=200, blank=True)
    military_background = models.TextField(_("military background"), blank=True)
    # Special-category facts (GDPR Art. 9): hidden on pages, in lists and exports while an
    # administrator lists them in `SensitiveField` (the default), shown on a recorded reveal.
    health_notes = models.TextField(
        _("health"), blank=True, help_text=_("Health needs and conditions the case must know.")
    )
    sogi_notes = models.TextField(
        _("sexual orientation and gender identity"),
        blank=True,
        help_text=_("Only what the claim or the applicant's safety needs."),
    )
    trauma_history = models.TextField(_("trafficking or torture history"), blank=True)
    vulnerability_details = models.TextField(
        _("details of vulnerability"),
        blank=True,
        help_text=_("Special procedural or reception needs and why."),
    )
    # An identity document the applicant holds, as recorded at intake.
    id_document_type = models.CharField(
        _("identity document"), max_length=20, choices=IdentityDocument.choices, blank=True
    )
    id_document_number = models.CharField(_("document number"), max_length=100, blank=True)
    id_document_country = CountryField(_("issuing country"), blank=True)
    id_document_expires_on = models.DateField(_("valid until"), null=True, blank=True)
    search_key = models.TextField(editable=False, default="", db_index=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["family_name", "given_names"]
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        indexes = [
            models.Index(fields=["date_of_birth"], name="applicant_dob_idx"),
        ]
        # The trigram index on search_key is created by a PostgreSQL-only migration step.
        triggers = [
            # A corrected nationality reaches the applicant's cases (Application.nationality).
            pgtrigger.Trigger(
                name="applicant_sets_nationality",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                condition=pgtrigger.Condition("OLD.nationality IS DISTINCT FROM NEW.nationality"),
                func="""
    UPDATE cases_application SET nationality = NEW.nationality WHERE applicant_id = NEW.id;
    RETURN NULL;
""",
            ),
            # A renamed (or anonymised) applicant's key reaches their cases
            # (Application.search_key, which the name search reads).
            pgtrigger.Trigger(
                name="applicant_sets_search_key",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                condition=pgtrigger.Condition("OLD.search_key IS DISTINCT FROM NEW.search_key"),
                func="""
    UPDATE cases_application SET search_key = NEW.search_key WHERE applicant_id = NEW.id;
    RETURN NULL;
""",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return person_name(self.given_names, self.family_name)

    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    def refresh_search_key(self) -> None:
        self.search_key = search_key(
            f"{self.given_names} {self.family_name}",
            f"{self.family_name} {self.given_names}",
            self.name_original,
            *self.alias_list(),
        )

    def save(self, *args, **kwargs) -> None:
        # The key is derived data, not domain logic: it must follow every name change.
        self.refresh_search_key()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_key"}
        super().save(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Applications (cases) and the state machine
# ---------------------------------------------------------------------------------------------


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    EXAMINATION = "examination", _("Under examination")
    DETENTION = "detention", _("In detention")
    DECIDED = "decided", _("Decided")
    APPEALED = "appealed", _("Appealed")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.EXAMINATION,
    Status.DETENTION,
    Status.DECIDED,
    Status.APPEALED,
)
FINAL_STATUSES = (Status.CLOSED, Status.WITHDRAWN)


class Condition:
    """A transition condition with a sentence that says why it blocks."""

    def __init__(self, func, message) -> None:
        self.func = func
        self.message = message
        self.__name__ = func.__name__

    def __call__(self, application) -> bool:
        return bool(self.func(application))


def _interview_recorded(application) -> bool:
    return bool(application.interviewed_on or application.interview_waiver_reason.strip())


def _appeal_window_passed(application) -> bool:
    """A decided case (not appealed): served, and the appeal window after service passed."""
    if application.status != Status.DECIDED:
        return True
    if not application.served_on:
        return False
    window = (
        application.deadlines.filter(rule__start_event=DeadlineRule.StartEvent.SERVED)
        .order_by("-due_at")
        .first()
    )
    if window is not None:
        return window.due_at < timezone.now()
    return timezone.localdate() - application.served_on >= dt.timedelta(days=14)


def _judgment_final(application) -> bool:
    """An appealed case: the latest appeal against the decision is judged, and no time for
    a further appeal is still running (`Appeal.judgment_is_final`)."""
    if application.status != Status.APPEALED:
        return True
    latest = application.latest_appeal()
    return latest is not None and latest.judgment_is_final()


def _not_remitted(application) -> bool:
    latest = application.latest_appeal() if application.status == Status.APPEALED else None
    return latest is None or latest.outcome != Appeal.Outcome.ANNULLED


INTERVIEW_RECORDED = Condition(
    _interview_recorded,
    _("No interview is recorded and no reason for waiving it is given."),
)


def _may_be_reopened(application) -> bool:
    return bool(
        application.withdrawal == Application.Withdrawal.IMPLICIT
        and application.reopen_until
        and timezone.localdate() <= application.reopen_until
    )


MAY_BE_REOPENED = Condition(
    _may_be_reopened,
    _(
        "Only an implicitly withdrawn application may be reopened, and only within its "
        "reopening window."
    ),
)
APPEAL_WINDOW_PASSED = Condition(
    _appeal_window_passed,
    _("The decision is not served yet, or the appeal window after its service has not passed."),
)
JUDGMENT_FINAL = Condition(
    _judgment_final,
    _(
        "No judgment on the appeal is recorded yet, or the time for a further appeal to the "
        "Supreme Administrative Court has not passed."
    ),
)
NOT_REMITTED = Condition(
    _not_remitted,
    _("The court annulled the decision and sent the case back: remit it for a new examination."),
)


class ApplicationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


@functools.cache
def _state_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in model._meta.fields if isinstance(f, FSMFieldMixin))


class UnitTrigrams(models.Func):
    """`haven_unit_trigrams(unit_id, search_key)`: the trigrams of a case's search key, each
    after the case's unit (`7:kor`), the expression `application_unit_trigram_idx` indexes
    (PostgreSQL only: migration 0043 makes the function and the index)."""

    function = "haven_unit_trigrams"
    output_field = ArrayField(models.TextField())


@pghistory.track(
    exclude=["next_deadline_at", "nationality", "search_key", "updated_at"],
    model_name="ApplicationHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history", db_constraint=False),
)
class Application(ConcurrentTransitionMixin, models.Model):
    class Procedure(models.TextChoices):
        REGULAR = "regular", _("Regular procedure")
        ACCELERATED = "accelerated", _("Accelerated procedure")
        BORDER = "border", _("Border procedure")
        DUBLIN = "dublin", _("Dublin procedure")
        # The examination of admissibility alone (Law on the Legal Status of Aliens Art. 77;
        # APR Art. 38): found admissible, the case goes on in another procedure.
        ADMISSIBILITY = "admissibility", _("Admissibility examination")
        SUBSEQUENT = "subsequent", _("Subsequent application (preliminary examination)")

    class Authority(models.TextChoices):
        BORDER_GUARD = "border_guard", _("State Border Guard Service")
        MIGRATION_DEPARTMENT = "migration_department", _("Migration Department")
        OTHER = "other", _("Other authority")

    class Ground(models.TextChoices):
        RACE = "race", _("Race")
        RELIGION = "religion", _("Religion")
        NATIONALITY = "nationality", _("Nationality")
        SOCIAL_GROUP = "social_group", _("Membership of a particular social group")
        POLITICAL_OPINION = "political_opinion", _("Political opinion")
        MILITARY_SERVICE = (
            "military_service",
            _("Refusal of military service (desertion, draft evasion)"),
        )
        SERIOUS_HARM = "serious_harm", _("Serious harm (subsidiary protection)")

    class Outcome(models.TextChoices):
        REFUGEE_STATUS = "refugee_status", _("Refugee status granted")
        SUBSIDIARY_PROTECTION = "subsidiary_protection", _("Subsidiary protection granted")
        # The stored value stays "rejected" (older records); it means rejected as unfounded.
        REJECTED = "rejected", _("Rejected as unfounded")
        MANIFESTLY_UNFOUNDED = "manifestly_unfounded", _("Rejected as manifestly unfounded")
        INADMISSIBLE = "inadmissible", _("Inadmissible")
        EXCLUSION = "exclusion", _("Excluded from international protection")
        DISCONTINUED = "discontinued", _("Examination discontinued")

    POSITIVE_OUTCOMES = (Outcome.REFUGEE_STATUS, Outcome.SUBSIDIARY_PROTECTION)
    # Outcomes after which a return decision may follow (its reference is recorded).
    NEGATIVE_OUTCOMES = (
        Outcome.REJECTED,
        Outcome.MANIFESTLY_UNFOUNDED,
        Outcome.INADMISSIBLE,
        Outcome.EXCLUSION,
        Outcome.DISCONTINUED,
    )

    class Vulnerability(models.TextChoices):
        # The categories of Directive (EU) 2024/1346 Art. 24 (2013/33 Art. 21).
        MINOR = "minor", _("Minor")
        UNACCOMPANIED_MINOR = "unaccompanied_minor", _("Unaccompanied minor")
        DISABILITY = "disability", _("Person with a disability")
        ELDERLY = "elderly", _("Elderly person")
        PREGNANCY = "pregnancy", _("Pregnant woman")
        SINGLE_PARENT = "single_parent", _("Single parent with minor children")
        TRAFFICKING = "trafficking", _("Victim of human trafficking")
        SERIOUS_VIOLENCE = (
            "serious_violence",
            _("Victim of torture, rape or other serious violence"),
        )
        SERIOUS_ILLNESS = "serious_illness", _("Person with a serious illness")
        MENTAL_DISORDER = "mental_disorder", _("Person with a mental disorder")

    class AgeMethod(models.TextChoices):
        DOCUMENTS = "documents", _("Documents")
        INTERVIEW = "interview", _("Interview")
        MEDICAL = "medical", _("Medical examination")
        OTHER = "other", _("Other method")

    class AgeResult(models.TextChoices):
        MINOR = "minor", _("Minor")
        ADULT = "adult", _("Adult")
        UNDETERMINED = "undetermined", _("Age could not be determined")

    class DublinRequest(models.TextChoices):
        TAKE_CHARGE = "take_charge", _("Take-charge request")
        TAKE_BACK = "take_back", _("Take-back request")

    class DublinReply(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        BY_DEFAULT = "accepted_by_default", _("Accepted by default (no reply in time)")

    class TransferExtension(models.TextChoices):
        IMPRISONMENT = "imprisonment", _("Imprisonment")
        ABSCONDING = "absconding", _("Absconding")

    class InadmissibilityGround(models.TextChoices):
        # APD 2013/32 Art. 33(2) and APR 2024/1348 Art. 38(1).
        PROTECTION_ELSEWHERE = (
            "protection_elsewhere",
            _("Protection granted by another Member State"),
        )
        FIRST_COUNTRY_OF_ASYLUM = "first_country_of_asylum", _("First country of asylum")
        SAFE_THIRD_COUNTRY = "safe_third_country", _("Safe third country")
        SUBSEQUENT_NO_NEW_ELEMENTS = (
            "subsequent_no_new_elements",
            _("Subsequent application without new elements"),
        )
        DEPENDANT_SEPARATE = (
            "dependant_separate",
            _("Separate application of a dependant without justification"),
        )
        INTERNATIONAL_COURT = (
            "international_court",
            _("Surrendered to an international criminal court or tribunal"),
        )

    class Withdrawal(models.TextChoices):
        EXPLICIT = "explicit", _("Explicit withdrawal")
        IMPLICIT = "implicit", _("Implicit withdrawal")

    class ServiceMethod(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        POST = "post", _("By post")
        ELECTRONIC = "electronic", _("Electronically (e-delivery)")
        REPRESENTATIVE = "representative", _("Through the representative")

    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    applicant = models.ForeignKey(
        Applicant,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    status = FSMField(_("status"), default=Status.SUBMITTED, choices=Status.choices, protected=True)
    status_changed_at = models.DateTimeField(_("in this state since"), default=timezone.now)
    procedure = models.CharField(
        _("procedure"), max_length=20, choices=Procedure.choices, default=Procedure.REGULAR
    )
    # A subsequent application names the earlier case of the same applicant.
    previous_application = models.ForeignKey(
        "self",
        verbose_name=_("earlier application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsequent_applications",
    )
    apprehended_on = models.DateField(_("apprehended on"), null=True, blank=True)
    # The moment of apprehension when its time is known: the 48-hour limit on detention
    # without a court order runs from it (else from 12:00 Vilnius on `apprehended_on`).
    apprehended_at = models.DateTimeField(_("apprehended at"), null=True, blank=True)
    apprehension_place = models.CharField(_("place of apprehension"), max_length=200, blank=True)
    entered_on = models.DateField(
        _("entered the territory on"),
        null=True,
        blank=True,
        help_text=_("Start of the 18-month cap on restrictions of liberty."),
    )
    submitted_on = models.DateField(_("application made on"))
    lodged_on = models.DateField(_("lodged on"), null=True, blank=True)
    submission_place = models.CharField(_("place of submission"), max_length=200, blank=True)
    submission_authority = models.CharField(
        _("authority of submission"),
        max_length=30,
        choices=Authority.choices,
        default=Authority.MIGRATION_DEPARTMENT,
    )
    grounds = models.JSONField(_("grounds"), default=list, blank=True)
    claim_summary = models.TextField(_("claim summary"), blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="applications"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned caseworker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_applications",
    )
    interviewed_on = models.DateField(_("personal interview held on"), null=True, blank=True)
    interview_waiver_reason = models.TextField(_("reason the interview was waived"), blank=True)
    # A personal interview the applicant missed without a reason: it opens the path to an
    # implicit withdrawal (APD Art. 28(1)).
    interview_missed_on = models.DateField(_("personal interview missed on"), null=True, blank=True)
    decision_outcome = models.CharField(
        _("decision"), max_length=30, choices=Outcome.choices, blank=True
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    # Dublin: the Member State found responsible, and when (the examination of a Dublin
    # case runs from this day when Lithuania is responsible).
    responsible_state = CountryField(_("Member State responsible"), blank=True)
    responsibility_determined_on = models.DateField(
        _("responsibility determined on"), null=True, blank=True
    )
    # The vulnerability assessment: category codes separated by commas (special-category
    # data: retention redacts it with the assessor), its date and who assessed.
    vulnerabilities = models.CharField(_("vulnerabilities found"), max_length=300, blank=True)
    vulnerability_assessed_on = models.DateField(
        _("vulnerability assessed on"), null=True, blank=True
    )
    vulnerability_assessor = models.CharField(
        _("vulnerability assessed by"), max_length=200, blank=True
    )
    # The age assessment (who assessed: the user who recorded it). Method and result are
    # redacted by retention; the date and the flags stay for statistics.
    age_assessment_method = models.CharField(
        _("age assessment method"), max_length=20, choices=AgeMethod.choices, blank=True
    )
    age_assessed_on = models.DateField(_("age assessed on"), null=True, blank=True)
    age_assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("age assessed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    age_assessment_result = models.CharField(
        _("age assessment result"), max_length=20, choices=AgeResult.choices, blank=True
    )
    age_benefit_of_doubt = models.BooleanField(_("benefit of the doubt applied"), default=False)
    age_unaccompanied = models.BooleanField(
        _("unaccompanied (found at the age assessment)"), default=False
    )
    # The guardian or representative of an unaccompanied minor (personal data: retention
    # redacts the texts; the date stays, it says whether the clock was kept).
    representative_name = models.CharField(_("representative"), max_length=200, blank=True)
    representative_organisation = models.CharField(
        _("representative's organisation"), max_length=200, blank=True
    )
    representative_appointed_on = models.DateField(
        _("representative appointed on"), null=True, blank=True
    )
    representative_appointed_by = models.CharField(
        _("representative appointed by"), max_length=200, blank=True
    )
    # The legal representative (lawyer or legal-aid provider); retention redacts all three.
    legal_representative_name = models.CharField(
        _("legal representative"), max_length=200, blank=True
    )
    legal_representative_organisation = models.CharField(
        _("legal representative's organisation"), max_length=200, blank=True
    )
    legal_representative_contact = models.CharField(
        _("legal representative's contact"), max_length=300, blank=True
    )
    dublin_request = models.CharField(
        _("Dublin request"), max_length=20, choices=DublinRequest.choices, blank=True
    )
    dublin_requested_state = CountryField(_("requested Member State"), blank=True)
    dublin_request_sent_on = models.DateField(_("Dublin request sent on"), null=True, blank=True)
    dublin_reply = models.CharField(
        _("reply to the Dublin request"), max_length=30, choices=DublinReply.choices, blank=True
    )
    dublin_reply_on = models.DateField(_("Dublin reply of"), null=True, blank=True)
    transfer_extension = models.CharField(
        _("transfer period extended for"),
        max_length=20,
        choices=TransferExtension.choices,
        blank=True,
    )
    transferred_on = models.DateField(_("transferred on"), null=True, blank=True)
    # The decision to transfer the applicant, served on them: the time to appeal against it
    # runs from this day (DOMAIN.md §3 row 8).
    transfer_decision_served_on = models.DateField(
        _("transfer decision served on"), null=True, blank=True
    )
    inadmissibility_ground = models.CharField(
        _("ground of inadmissibility"),
        max_length=40,
        choices=InadmissibilityGround.choices,
        blank=True,
    )
    return_decision_reference = models.CharField(
        _("return decision reference"), max_length=100, blank=True
    )
    served_on = models.DateField(_("decision served on"), null=True, blank=True)
    # How the decision was served and in which language it was explained or translated
    # (the decision itself is in Lithuanian); the appeal window runs from `served_on`.
    service_method = models.CharField(
        _("method of service"), max_length=20, choices=ServiceMethod.choices, blank=True
    )
    service_language = models.CharField(
        _("language of service"),
        max_length=100,
        blank=True,
        help_text=_("The language the decision was translated or explained in."),
    )
    # Appeals to the courts are rows of their own (`Appeal`): two levels, each with its
    # court case number, suspensive effect and judgment.
    withdrawal = models.CharField(
        _("withdrawal"), max_length=20, choices=Withdrawal.choices, blank=True
    )
    # After an implicit withdrawal: the last day the applicant may have the case reopened
    # (the reopening window's rule in force then, APD Art. 28(2)).
    reopen_until = models.DateField(_("may be reopened until"), null=True, blank=True)
    next_deadline_at = models.DateTimeField(
        _("nearest open deadline"), null=True, blank=True, editable=False
    )
    # A record made after the fact (the sample case, a migrated backlog) reflects what was
    # known on this date: its open clocks are history, not alarms (no overdue figure, no
    # reminder), until someone records the current facts (`workflow.bring_up_to_date`).
    recorded_as_of = models.DateField(
        _("record reflects the facts of"),
        null=True,
        blank=True,
        help_text=_(
            "For a case recorded after the fact: the date its record reflects. Empty for a "
            "live case."
        ),
    )
    # The applicant's nationality, copied by triggers (PostgreSQL: application_copies_nationality,
    # applicant_sets_nationality)
    # so that the case list filtered by status and nationality, and its count, are answered
    # by one index of cases instead of a join over hundreds of thousands of applicants.
    nationality = models.CharField(_("nationality"), max_length=2, blank=True, editable=False)
    # The applicant's search key (`Applicant.search_key`), copied by triggers (PostgreSQL:
    # application_copies_search_key, applicant_sets_search_key) with a trigram index of its
    # own, after the unit (`application_unit_search_trgm_idx`; and its trigrams by unit,
    # `UnitTrigrams`, for the search's count; made by PostgreSQL-only migration steps), so that
    # a name search reads one index of cases instead of looking up people first and then
    # their cases. Elsewhere it stays empty and the search goes through the applicant.
    search_key = models.TextField(editable=False, default="", blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_on", "-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [
            # The list filtered by status (and by nationality and status, below), newest
            # first: its page walks the index in order and its count reads the prefix alone.
            models.Index(
                fields=["unit", "status", "-submitted_on", "-id"], name="app_unit_status_idx"
            ),
            models.Index(fields=["unit", "next_deadline_at"], name="app_unit_deadline_idx"),
            models.Index(
                fields=["unit", "nationality", "status", "-submitted_on", "-id"],
                name="app_unit_nationality_idx",
            ),
            # On PostgreSQL it also carries the reference and the search key (INCLUDE, made
            # by migration 0040): a name search walks it without reading the table.
            models.Index(fields=["unit", "-submitted_on", "-id"], name="app_unit_submitted_idx"),
            # "My cases" (the dashboard, the assignee filter) of one unit, without the table.
            models.Index(
                fields=["assigned_to", "unit", "status", "id"], name="app_assignee_status_idx"
            ),
            # The dashboard's "my cases" and "deadlines due" of one assignee, nearest first:
            # read in order and stopped after a page, not sorted after reading them all.
            models.Index(
                fields=["assigned_to", "next_deadline_at", "id"], name="app_assignee_deadline_idx"
            ),
            models.Index(fields=["status_changed_at"], name="app_status_changed_idx"),
            # The dashboard's "unassigned" count: a small partial index instead of the heap.
            models.Index(
                fields=["unit", "status"],
                condition=Q(assigned_to__isnull=True),
                name="app_unit_unassigned_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="application_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(lodged_on__isnull=True) | Q(lodged_on__gte=models.F("submitted_on")),
                name="application_lodged_after_submitted",
            ),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True) | Q(decided_on__gte=models.F("submitted_on")),
                name="application_decided_after_submitted",
            ),
            models.CheckConstraint(
                condition=Q(served_on__isnull=True) | Q(decided_on__isnull=False),
                name="application_served_only_if_decided",
            ),
        ]
        permissions = [("run_transitions", "Can run case transitions")]
        triggers = [
            # The copy of the applicant's nationality, set whenever a case row is written
            # (a changed nationality reaches the cases through applicant_sets_nationality).
            pgtrigger.Trigger(
                name="application_copies_nationality",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                level=pgtrigger.Row,
                func="""
    NEW.nationality := COALESCE(
        (SELECT nationality FROM cases_applicant WHERE id = NEW.applicant_id), '');
    RETURN NEW;
""",
            ),
            # The copy of the applicant's search key, likewise: set whenever a case row is
            # written, so a case moved to another person (a correction) takes theirs.
            pgtrigger.Trigger(
                name="application_copies_search_key",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                level=pgtrigger.Row,
                func="""
    NEW.search_key := COALESCE(
        (SELECT search_key FROM cases_applicant WHERE id = NEW.applicant_id), '');
    RETURN NEW;
""",
            ),
            # A case moved to another unit takes its placements along (Placement.unit).
            pgtrigger.Trigger(
                name="application_sets_placement_unit",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                condition=pgtrigger.Condition("OLD.unit_id IS DISTINCT FROM NEW.unit_id"),
                func="""
    UPDATE cases_placement SET unit_id = NEW.unit_id WHERE application_id = NEW.id;
    RETURN NULL;
""",
            ),
            pgtrigger.Trigger(
                name="application_keeps_status_counts",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                func=keeps_counts(
                    "cases_statuscount", ("unit_id", "status"), "cases", counted="TRUE"
                ),
            ),
            pgtrigger.Trigger(
                name="application_keeps_unassigned_counts",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                func=keeps_counts(
                    "cases_unassignedcount",
                    ("unit_id", "status"),
                    "cases",
                    counted="{row}.assigned_to_id IS NULL",
                ),
            ),
            pgtrigger.Trigger(
                name="application_moves_due_counts",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                condition=pgtrigger.Condition(
                    "OLD.unit_id IS DISTINCT FROM NEW.unit_id"
                    " OR OLD.assigned_to_id IS DISTINCT FROM NEW.assigned_to_id"
                    " OR (OLD.recorded_as_of IS NULL) IS DISTINCT FROM (NEW.recorded_as_of IS NULL)"
                ),
                declare=APPLICATION_MOVES_DUE_COUNTS_DECLARE,
                func=APPLICATION_MOVES_DUE_COUNTS,
            ),
            pgtrigger.Trigger(
                name="application_moves_missed_counts",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                condition=pgtrigger.Condition("OLD.unit_id IS DISTINCT FROM NEW.unit_id"),
                declare=[("day", "record")],
                func=APPLICATION_MOVES_MISSED_COUNTS,
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def state_fields(self) -> tuple[models.Field, ...]:
        """The state field, found once per model: django-fsm looks through all the case's
        fields each time a case is read from the database (a list page reads dozens)."""
        return _state_fields(type(self))

    # ---- derived facts ----------------------------------------------------------------------

    def get_grounds_display(self) -> list[str]:
        labels = dict(self.Ground.choices)
        return [str(labels.get(code, code)) for code in self.grounds or []]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def vulnerability_labels(self) -> list[str]:
        """The vulnerabilities found, as readers name them (a redacted value as it is)."""
        labels = dict(self.Vulnerability.choices)
        codes = [c for c in (self.vulnerabilities or "").split(",") if c]
        return [str(labels.get(code, code)) for code in codes]

    def treated_as_minor_by_age(self) -> bool | None:
        """What the age assessment found: True for a minor (or an undetermined age with the
        benefit of the doubt), False for an adult, None when it leaves the question open."""
        result = self.age_assessment_result
        if result == self.AgeResult.ADULT:
            return False
        if result == self.AgeResult.MINOR or (
            result == self.AgeResult.UNDETERMINED and self.age_benefit_of_doubt
        ):
            return True
        return None

    def is_unaccompanied_minor(self) -> bool:
        """Whether the person is treated as an unaccompanied minor: the vulnerability
        assessment found one, or the age assessment found a minor who is unaccompanied; an
        age assessment that found an adult overrides both."""
        by_age = self.treated_as_minor_by_age()
        if by_age is False:
            return False
        if self.Vulnerability.UNACCOMPANIED_MINOR in (self.vulnerabilities or "").split(","):
            return True
        return bool(by_age and self.age_unaccompanied)

    def needs_representative(self) -> bool:
        """An unaccompanied minor without an appointed representative (DOMAIN.md §3 row 20)."""
        return self.is_unaccompanied_minor() and self.representative_appointed_on is None

    def special_guarantees(self) -> list[str]:
        """The special procedural guarantees that follow from the person's assessments.

        The minors' guarantees follow from the vulnerability assessment's categories or from
        the age assessment (a minor, or an undetermined age with the benefit of the doubt),
        whichever found a minor. An age assessment that found an adult overrides the minor
        categories (as `is_unaccompanied_minor` and the representative's clock read it) and
        says so, so that the vulnerability assessment is reviewed; it removes no other
        category's guarantees."""
        codes = set((self.vulnerabilities or "").split(","))
        minor_codes = {self.Vulnerability.MINOR, self.Vulnerability.UNACCOMPANIED_MINOR}
        by_age = self.treated_as_minor_by_age()
        guarantees = []
        if self.is_unaccompanied_minor():
            guarantees += [
                str(_("No border procedure for an unaccompanied minor.")),
                str(_("A representative for the unaccompanied minor.")),
                str(_("Detention only in exceptional circumstances, never in prison.")),
            ]
            if self.procedure == self.Procedure.BORDER:
                # Assessed after the case was channelled: it must leave the procedure.
                guarantees.append(
                    str(
                        _("The case is in the border procedure: channel it into another procedure.")
                    )
                )
        elif by_age or (by_age is None and codes & minor_codes):
            guarantees.append(str(_("Detention of a minor only as a last resort.")))
        elif by_age is False and codes & minor_codes:
            guarantees.append(
                str(
                    _(
                        "The age assessment found an adult, but the vulnerability assessment "
                        "records a minor: the minors' guarantees do not apply; review the "
                        "vulnerability assessment."
                    )
                )
            )
        if codes - {"", *minor_codes}:
            guarantees.append(
                str(
                    _(
                        "Special procedural guarantees: adapt the interview and weigh the needs "
                        "found in any decision on detention."
                    )
                )
            )
        return guarantees

    def open_detention(self):
        return (
            self.placements.filter(regime=Placement.Regime.DETENTION, ends_at__isnull=True)
            .select_related("facility")
            .first()
        )

    def latest_appeal(self) -> Appeal | None:
        """The latest appeal against the decision on the application, at either level (a
        further appeal is lodged after the first-instance judgment it appeals)."""
        return (
            self.appeals.filter(subject=Appeal.Subject.ASYLUM_DECISION)
            .order_by("-lodged_on", "-id")
            .first()
        )

    def open_alternative(self):
        """The open placement under an alternative to detention (regime restricted)."""
        return (
            self.placements.filter(regime=Placement.Regime.RESTRICTED, ends_at__isnull=True)
            .select_related("facility")
            .first()
        )

    def current_placement(self):
        return (
            self.placements.filter(ends_at__isnull=True)
            .select_related("facility")
            .order_by("-starts_at")
            .first()
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        codes = set(self.Ground.values)
        if not isinstance(self.grounds, list) or any(g not in codes for g in self.grounds):
            errors["grounds"] = _("Unknown ground.")
        if self.lodged_on and self.submitted_on and self.lodged_on < self.submitted_on:
            errors["lodged_on"] = _("An application cannot be lodged before it was made.")
        if (
            self.apprehended_at
            and self.apprehended_on
            and self.apprehended_at.astimezone(VILNIUS).date() != self.apprehended_on
        ):
            errors["apprehended_at"] = _(
                "The moment of apprehension is not on the day of apprehension."
            )
        if self.apprehended_on and self.submitted_on and self.apprehended_on > self.submitted_on:
            errors["apprehended_on"] = _(
                "Apprehension after the application was made: record it as a separate event."
            )
        if errors:
            raise ValidationError(errors)

    # ---- the state graph ---------------------------------------------------------------------
    # Each method only sets the facts that belong to the transition; `cases.workflow` locks
    # the row, checks the permission it names (a `rules` permission, `cases.predicates`) and
    # the inputs, and records the consequences.

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.EXAMINATION,
        permission="cases.work_on_case",
        custom={"label": _("Start examination"), "help_text": _("Assign and examine the case.")},
    )
    def start_examination(self, *, assignee=None) -> None:
        if assignee is not None:
            self.assigned_to = assignee

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.EXAMINATION],
        target=Status.DETENTION,
        permission="cases.work_on_case",
        custom={"label": _("Detain"), "help_text": _("Place the applicant in detention.")},
    )
    def detain(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.DETENTION,
        target=Status.EXAMINATION,
        permission="cases.work_on_case",
        custom={"label": _("Release"), "help_text": _("End detention; examination goes on.")},
    )
    def release(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.EXAMINATION, Status.DETENTION],
        target=Status.DECIDED,
        permission="cases.decide_case",
        conditions=[INTERVIEW_RECORDED],
        custom={"label": _("Decide"), "help_text": _("Record the first-instance decision.")},
    )
    def decide(
        self,
        *,
        outcome: str,
        decided_on: dt.date,
        served_on: dt.date | None,
        inadmissibility_ground: str = "",
        return_decision_reference: str = "",
    ) -> None:
        self.decision_outcome = outcome
        self.decided_on = decided_on
        self.served_on = served_on
        self.inadmissibility_ground = inadmissibility_ground
        self.return_decision_reference = return_decision_reference

    @transition(
        field=status,
        source=Status.DECIDED,
        target=Status.APPEALED,
        permission="cases.work_on_case",
        custom={"label": _("Appeal"), "help_text": _("Record an appeal to the court.")},
    )
    def appeal(self, *, lodged_on: dt.date, suspensive_effect: str = "") -> None:
        """The appeal is a row of its own (`Appeal`, written by `workflow.appeal`); its day
        and suspensive effect are the transition's data, kept on its event."""

    @transition(
        field=status,
        source=Status.APPEALED,
        target=Status.EXAMINATION,
        permission="cases.decide_case",
        custom={
            "label": _("Remit"),
            "help_text": _("The court sent the case back for a new examination."),
        },
    )
    def remit(self) -> None:
        self.decision_outcome = ""
        self.inadmissibility_ground = ""

    @transition(
        field=status,
        source=[Status.DECIDED, Status.APPEALED],
        target=Status.CLOSED,
        permission="cases.decide_case",
        conditions=[APPEAL_WINDOW_PASSED, JUDGMENT_FINAL, NOT_REMITTED],
        custom={"label": _("Close"), "help_text": _("The decision is final.")},
    )
    def close(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION],
        target=Status.WITHDRAWN,
        permission="cases.work_on_case",
        custom={
            "label": _("Withdraw"),
            "help_text": _("The applicant withdrew the application (explicitly or implicitly)."),
        },
    )
    def withdraw(self, *, kind: str) -> None:
        self.withdrawal = kind

    @transition(
        field=status,
        source=Status.WITHDRAWN,
        target=Status.EXAMINATION,
        permission="cases.work_on_case",
        conditions=[MAY_BE_REOPENED],
        custom={
            "label": _("Reopen"),
            "help_text": _(
                "The applicant asked to go on with an implicitly withdrawn application, "
                "within the reopening window."
            ),
        },
    )
    def reopen(self) -> None:
        self.withdrawal = ""


class Appeal(models.Model):
    """An appeal to an administrative court against a decision in the case, at one level.

    The first instance is a regional administrative court; its judgment may be appealed
    further to the Supreme Administrative Court of Lithuania (a second-level row names the
    first-level appeal it continues). The subject is the decision appealed: the decision on
    the application, or the Dublin transfer decision (the list grows with the decisions
    that may be appealed). Written by `cases.workflow` only.
    """

    class Subject(models.TextChoices):
        ASYLUM_DECISION = "asylum_decision", _("Decision on the application")
        TRANSFER_DECISION = "transfer_decision", _("Dublin transfer decision")

    class Level(models.TextChoices):
        FIRST = "first", _("Regional administrative court (first instance)")
        SECOND = "second", _("Supreme Administrative Court of Lithuania")

    class Suspensive(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic (by law)")
        REQUESTED = "requested", _("Requested from the court")
        NONE = "none", _("None")

    class Suspension(models.TextChoices):
        PENDING = "pending", _("Not decided yet")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Decision upheld (appeal dismissed)")
        ANNULLED = "annulled", _("Decision annulled and the case remitted")
        PROTECTION_GRANTED = "protection_granted", _("Protection granted by the court")
        NOT_EXAMINED = "not_examined", _("Appeal withdrawn or left unexamined")

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="appeals"
    )
    subject = models.CharField(
        _("decision appealed"),
        max_length=30,
        choices=Subject.choices,
        default=Subject.ASYLUM_DECISION,
    )
    level = models.CharField(_("court level"), max_length=10, choices=Level.choices)
    # The first-instance appeal that a further appeal continues (second level only).
    first_instance = models.ForeignKey(
        "self",
        verbose_name=_("appeal at first instance"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="further_appeals",
    )
    court = models.CharField(_("court"), max_length=200)
    # The court's number of the case: it leads to the person (retention redacts it).
    court_case_number = models.CharField(_("court case number"), max_length=100, blank=True)
    lodged_on = models.DateField(_("lodged on"))
    suspensive_effect = models.CharField(
        _("suspensive effect"), max_length=20, choices=Suspensive.choices, blank=True
    )
    suspension = models.CharField(
        _("suspension requested: the court's answer"),
        max_length=20,
        choices=Suspension.choices,
        blank=True,
    )
    suspension_decided_on = models.DateField(_("suspension decided on"), null=True, blank=True)
    judgment_on = models.DateField(_("judgment of"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["lodged_on", "id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.CheckConstraint(
                condition=Q(judgment_on__isnull=True) | Q(judgment_on__gte=models.F("lodged_on")),
                name="appeal_judgment_after_lodging",
            ),
            # Appeals recorded before outcomes were kept have a judgment without one.
            models.CheckConstraint(
                condition=Q(outcome="") | Q(judgment_on__isnull=False),
                name="appeal_outcome_with_judgment",
            ),
            models.CheckConstraint(
                condition=Q(level="first", first_instance__isnull=True)
                | Q(level="second", first_instance__isnull=False),
                name="appeal_second_level_continues_first",
            ),
            models.UniqueConstraint(
                fields=["first_instance"],
                condition=Q(first_instance__isnull=False),
                name="appeal_one_further_appeal",
            ),
            models.CheckConstraint(
                condition=Q(suspension="") | Q(suspensive_effect="requested"),
                name="appeal_suspension_only_when_requested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.get_level_display()} ({self.lodged_on})"

    @property
    def suspends(self) -> bool:
        """Whether the appeal suspends the decision: by law, or granted by the court."""
        return self.suspensive_effect == self.Suspensive.AUTOMATIC or (
            self.suspension == self.Suspension.GRANTED
        )

    def judgment_is_final(self) -> bool:
        """Judged, and not open to a further appeal any more: a judgment of the Supreme
        Administrative Court, or a first-instance judgment whose time for a further appeal
        (its open deadline, `DeadlineRule.StartEvent.JUDGMENT_PRONOUNCED`) has passed."""
        if self.judgment_on is None:
            return False
        if self.level == self.Level.SECOND:
            return True
        return (
            not self.application.deadlines.open()
            .filter(
                rule__start_event=DeadlineRule.StartEvent.JUDGMENT_PRONOUNCED,
                due_at__gte=timezone.now(),
            )
            .exists()
        )


class ReferenceCounter(models.Model):
    """The last number handed out per year, for human references such as LT-2023-000001."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# ---------------------------------------------------------------------------------------------
# Family links between applicants
# ---------------------------------------------------------------------------------------------


class FamilyLink(models.Model):
    """A family relation between two applicants (issue 17): `relative` is the `relation` of
    `applicant` (the relative is the applicant's spouse, child, parent or sibling). Stored
    once and read from both sides with the inverse relation (`inverse`): a child's page
    names the parent. One link per pair of people, whichever way it was recorded, so that a
    pair is never linked twice nor in contradiction (A the parent of B and B the parent of
    A). Changed only by `workflow.link_family` and `workflow.unlink_family`; retention
    deletes the links of an anonymised applicant."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SIBLING = "sibling", _("Sibling")

    # What the other side of a link is: a child's parent, a parent's child.
    INVERSE = {"spouse": "spouse", "child": "parent", "parent": "child", "sibling": "sibling"}

    applicant = models.ForeignKey(
        Applicant,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="family_links",
    )
    relative = models.ForeignKey(
        Applicant,
        verbose_name=_("family member"),
        on_delete=models.PROTECT,
        related_name="family_links_as_relative",
    )
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("family link")
        verbose_name_plural = _("family links")
        indexes = [models.Index(fields=["relative"], name="family_link_relative_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(applicant=models.F("relative")), name="family_link_not_self"
            ),
            models.CheckConstraint(
                condition=Q(relation__in=["spouse", "child", "parent", "sibling"]),
                name="family_link_relation_valid",
            ),
            # One link per pair of people, whichever side it was recorded from.
            models.UniqueConstraint(
                Least("applicant", "relative"),
                Greatest("applicant", "relative"),
                name="family_link_one_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.applicant_id} → {self.relative_id}: {self.relation}"

    @classmethod
    def inverse(cls, relation: str) -> str:
        """The relation read from the other side: a child's parent, a parent's child."""
        return cls.INVERSE[relation]

    def seen_from(self, applicant_id: int) -> tuple[int, str]:
        """The other person of the link and what they are to `applicant_id`."""
        if applicant_id == self.applicant_id:
            return self.relative_id, self.relation
        return self.applicant_id, self.inverse(self.relation)


# ---------------------------------------------------------------------------------------------
# Placements
# ---------------------------------------------------------------------------------------------


class PlacementQuerySet(models.QuerySet):
    def current(self):
        return self.filter(ends_at__isnull=True)


class Placement(models.Model):
    class Regime(models.TextChoices):
        ACCOMMODATION = "accommodation", _("Open accommodation")
        RESTRICTED = "restricted", _("Restricted accommodation (alternative to detention)")
        DETENTION = "detention", _("Detention")

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="placements"
    )
    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.PROTECT, related_name="placements"
    )

    class Alternative(models.TextChoices):
        # Alternatives to detention (RCD 2013/33 Art. 8(4); Law on the Legal Status of
        # Aliens Art. 115): each names the facility the person lives at, so that it counts
        # in the facility's places like any other placement.
        REPORTING_DUTY = "reporting_duty", _("Duty to report")
        DESIGNATED_RESIDENCE = "designated_residence", _("Residence in a designated place")

    regime = models.CharField(_("regime"), max_length=20, choices=Regime.choices)
    alternative = models.CharField(
        _("alternative to detention"),
        max_length=30,
        choices=Alternative.choices,
        blank=True,
        default="",
        db_default="",
    )
    # Why detaining an unaccompanied minor is a last resort (RCD 2013/33 Art. 11(3)),
    # recorded by the decision-maker who allowed it.
    last_resort_reason = models.TextField(
        _("why detention is a last resort"), blank=True, default="", db_default=""
    )
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    ordering_authority = models.CharField(_("ordered by"), max_length=200, blank=True)
    order_reference = models.CharField(_("order reference"), max_length=100, blank=True)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    end_reason = models.TextField(_("reason for ending"), blank=True)
    review_due = models.DateField(_("review due"), null=True, blank=True)
    court_name = models.CharField(_("court"), max_length=200, blank=True)
    court_case_number = models.CharField(_("court case number"), max_length=100, blank=True)
    court_order_on = models.DateField(_("court order of"), null=True, blank=True)
    court_order_until = models.DateField(_("court order until"), null=True, blank=True)
    # The case's unit, copied by triggers (PostgreSQL: placement_copies_unit,
    # application_sets_placement_unit) so that the facilities page finds the people of a
    # unit placed at a facility in one index (`placement_unit_current_idx`) instead of
    # reading every person's case to see whose it is (`access.visible_current_placements`).
    # Elsewhere it stays empty and the page goes through the cases.
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        editable=False,
        related_name="+",
    )

    objects = PlacementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        indexes = [
            models.Index(
                fields=["facility", "regime"],
                condition=Q(ends_at__isnull=True),
                name="placement_current_idx",
            ),
            # The facilities page: the people placed at a facility now, newest first.
            models.Index(
                fields=["facility", "-starts_at", "-id"],
                condition=Q(ends_at__isnull=True),
                name="placement_current_recent_idx",
            ),
            # The same for the people of one unit (the facilities page of a caseworker).
            models.Index(
                fields=["facility", "unit", "-starts_at", "-id"],
                condition=Q(ends_at__isnull=True),
                name="placement_unit_current_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="placement_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(ends_at__isnull=True),
                name="placement_one_current_per_case",
            ),
            # An alternative to detention is a restricted placement. (Restricted placements
            # recorded before alternatives were named have none.)
            models.CheckConstraint(
                condition=Q(alternative="") | Q(regime="restricted"),
                name="placement_alternative_is_restricted",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="placement_copies_unit",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                level=pgtrigger.Row,
                func="""
    NEW.unit_id := (SELECT unit_id FROM cases_application WHERE id = NEW.application_id);
    RETURN NEW;
""",
            ),
            pgtrigger.Trigger(
                name="placement_keeps_occupancy",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                func=keeps_counts(
                    "cases_occupancy",
                    ("facility_id", "regime"),
                    "people",
                    counted="{row}.ends_at IS NULL",
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_regime_display()} — {self.facility}"


# The live open deadlines by unit, assignee and due day, counted from the rows.
DUE_COUNTS_SQL = f"""
    DELETE FROM cases_duecount;
    WITH days AS (
        SELECT a.unit_id, COALESCE(a.assigned_to_id, 0) AS assignee,
            {_DUE_DAY.format(row="d")} AS due_day, count(*) AS deadlines
        FROM cases_deadline d JOIN cases_application a ON a.id = d.application_id
        WHERE d.status = 'open' AND a.recorded_as_of IS NULL
        GROUP BY 1, 2, 3
    )
    INSERT INTO cases_duecount (unit_id, assignee, due_day, deadlines)
    SELECT unit_id, assignee, due_day, deadlines FROM days
    UNION ALL
    SELECT unit_id, -1, due_day, sum(deadlines) FROM days GROUP BY unit_id, due_day;
"""  # noqa: S608 (identifiers written here)


# ---------------------------------------------------------------------------------------------
# Detention in court: orders and their extensions, periodic reviews, appeals
# ---------------------------------------------------------------------------------------------


class DetentionRecord(models.Model):
    """What the records of a detention in court share: the case, the detention (placement)
    they are about, and when Haven recorded them. Read per case (`application`)."""

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="+"
    )
    placement = models.ForeignKey(
        Placement, verbose_name=_("placement"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        abstract = True


class DetentionOrder(DetentionRecord):
    """A court's order authorising a detention (the first one) or extending it (each later
    one): the court, its case number, when it was made and until when it authorises the
    detention. The placement keeps the latest order's facts for the pages."""

    is_extension = models.BooleanField(_("extension"), default=False)
    court = models.CharField(_("court"), max_length=200)
    case_number = models.CharField(_("court case number"), max_length=100)
    ordered_at = models.DateTimeField(_("ordered at"))
    until = models.DateField(_("detention authorised until"))

    class Meta:
        ordering = ["ordered_at", "id"]
        verbose_name = _("court order on detention")
        verbose_name_plural = _("court orders on detention")
        indexes = [models.Index(fields=["application", "ordered_at"], name="detorder_case_idx")]

    def __str__(self) -> str:
        return f"{self.court} {self.case_number}"


class DetentionReview(DetentionRecord):
    """A periodic review of a detention (RCD 2024/1346 Art. 11(3); RCD 2013/33 Art. 9(5)):
    when, by whom (court or authority), and whether the detention goes on or ends."""

    class Result(models.TextChoices):
        CONTINUED = "continued", _("Detention continues")
        ENDED = "ended", _("Detention ended")

    reviewed_on = models.DateField(_("reviewed on"))
    reviewed_by = models.CharField(_("reviewed by"), max_length=200)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)

    class Meta:
        ordering = ["reviewed_on", "id"]
        verbose_name = _("detention review")
        verbose_name_plural = _("detention reviews")
        indexes = [models.Index(fields=["application", "reviewed_on"], name="detreview_case_idx")]

    def __str__(self) -> str:
        return f"{self.reviewed_on} {self.get_result_display()}"


class DetentionAppeal(DetentionRecord):
    """The detainee's appeal against the detention: lodged when, with which court and case
    number, and the court's result (detention ended or upheld) with its date."""

    class Result(models.TextChoices):
        ENDED = "ended", _("Detention ended")
        UPHELD = "upheld", _("Detention upheld")

    lodged_on = models.DateField(_("appeal lodged on"))
    court = models.CharField(_("court"), max_length=200)
    case_number = models.CharField(_("court case number"), max_length=100, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)

    class Meta:
        ordering = ["lodged_on", "id"]
        verbose_name = _("appeal against detention")
        verbose_name_plural = _("appeals against detention")
        indexes = [models.Index(fields=["application", "lodged_on"], name="detappeal_case_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(result="") & Q(decided_on__isnull=True))
                | (~Q(result="") & Q(decided_on__gte=models.F("lodged_on"))),
                name="detappeal_result_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.court} {self.case_number}".strip()


# Recount every stored count from the rows (after a bulk load that ran with the triggers off,
# or to repair the counts by hand in `manage.py dbshell`).
RECOUNT_SQL = """
    DELETE FROM cases_occupancy;
    INSERT INTO cases_occupancy (facility_id, regime, people)
    SELECT facility_id, regime, count(*) FROM cases_placement WHERE ends_at IS NULL
    GROUP BY facility_id, regime;
    DELETE FROM cases_statuscount;
    INSERT INTO cases_statuscount (unit_id, status, cases)
    SELECT unit_id, status, count(*) FROM cases_application GROUP BY unit_id, status;
    DELETE FROM cases_unassignedcount;
    INSERT INTO cases_unassignedcount (unit_id, status, cases)
    SELECT unit_id, status, count(*) FROM cases_application WHERE assigned_to_id IS NULL
    GROUP BY unit_id, status;
"""
RECOUNT_SQL += DUE_COUNTS_SQL
MISSED_COUNTS_SQL = f"""
    DELETE FROM cases_missedcount;
    INSERT INTO cases_missedcount (unit_id, closed_day, deadlines)
    SELECT a.unit_id, {_CLOSED_DAY.format(row="d")}, count(*)
    FROM cases_deadline d JOIN cases_application a ON a.id = d.application_id
    WHERE d.status = 'missed' AND d.closed_at IS NOT NULL
    GROUP BY 1, 2;
"""  # noqa: S608
RECOUNT_SQL += MISSED_COUNTS_SQL


class Occupancy(models.Model):
    """How many people a facility holds now, per regime: one row per facility and regime, so
    the facilities page and the capacity check read a handful of rows whatever the number of
    placements. Kept by a trigger on `Placement` (PostgreSQL)."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("facility"), on_delete=models.CASCADE, related_name="+"
    )
    regime = models.CharField(_("regime"), max_length=20, choices=Placement.Regime.choices)
    people = models.PositiveIntegerField(_("people"), default=0)

    class Meta:
        verbose_name = _("occupancy")
        verbose_name_plural = _("occupancy")
        constraints = [
            models.UniqueConstraint(fields=["facility", "regime"], name="occupancy_one_per_regime")
        ]

    def __str__(self) -> str:
        return f"{self.facility}: {self.people} ({self.get_regime_display()})"


class StatusCount(models.Model):
    """How many cases a unit has in each status: the dashboard's summary, read as a handful
    of rows instead of counting the unit's cases. Kept by a trigger on `Application`
    (PostgreSQL)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    cases = models.PositiveIntegerField(_("cases"), default=0)

    class Meta:
        verbose_name = _("cases by status")
        verbose_name_plural = _("cases by status")
        constraints = [
            models.UniqueConstraint(fields=["unit", "status"], name="statuscount_one_per_status")
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.cases} ({self.get_status_display()})"


class UnassignedCount(models.Model):
    """How many cases of a unit in each status nobody is assigned to: the dashboard's
    "open cases of the unit are unassigned", read as a handful of rows instead of counting
    the unit's cases. Kept by a trigger on `Application` (PostgreSQL)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    cases = models.PositiveIntegerField(_("cases"), default=0)

    class Meta:
        verbose_name = _("unassigned cases by status")
        verbose_name_plural = _("unassigned cases by status")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "status"], name="unassignedcount_one_per_status"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.cases} ({self.get_status_display()})"


class DueCount(models.Model):
    """How many open deadlines of live cases fall due on a day, per unit and assignee: the
    dashboard's overdue and due-soon figures, read as a few rows per day instead of counting
    the deadlines of hundreds of thousands of cases. Kept by triggers on `Deadline` and
    `Application` (PostgreSQL); see `due_counts`."""

    # The row of a unit's deadlines whoever the assignee.
    ANYONE = -1

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    # The case's assignee (a user id), 0 when nobody is assigned, ANYONE in the unit's row.
    assignee = models.BigIntegerField(_("assignee"), default=0)
    # The day of the deadline's moment (`Deadline.due_at`) in Vilnius.
    due_day = models.DateField(_("due on"))
    deadlines = models.PositiveIntegerField(_("deadlines"), default=0)

    class Meta:
        verbose_name = _("deadlines by due day")
        verbose_name_plural = _("deadlines by due day")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "assignee", "due_day"], name="duecount_one_per_day"
            )
        ]
        indexes = [
            # The figures of every unit (administrators): the units' rows by day.
            models.Index(fields=["assignee", "due_day", "deadlines"], name="duecount_day_idx")
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.deadlines} ({self.due_day})"


class MissedCount(models.Model):
    """How many deadlines of a unit's cases were missed (closed late), per day of closing in
    Vilnius: the decision-makers' "missed in the last 30 days", read as thirty rows instead of
    counting the unit's missed deadlines (hundreds of thousands in a national backlog). Kept
    by triggers on `Deadline` and `Application` (PostgreSQL); see `missed_count`."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    closed_day = models.DateField(_("closed on"))
    deadlines = models.PositiveIntegerField(_("deadlines"), default=0)

    class Meta:
        verbose_name = _("missed deadlines by day")
        verbose_name_plural = _("missed deadlines by day")
        constraints = [
            models.UniqueConstraint(fields=["unit", "closed_day"], name="missedcount_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.deadlines} ({self.closed_day})"


@contextlib.contextmanager
def without_parallel_workers():
    """Statements inside are planned without parallel workers (PostgreSQL; elsewhere this
    does nothing): in a transaction of their own, or in the current one, whose setting is
    then put back.

    For a statement that reads a handful of rows the planner expects many of: the open
    deadlines due in the part of today before now, estimated from an even spread over the
    day (over a thousand rows at 1,000,000 cases by midday), though a limit mostly falls due
    at the end of its day (26 rows). Planned for a thousand, the statement started a
    parallel worker: 5 ms on a 2-core machine for 0.2 ms of reading."""
    if connection.vendor != "postgresql":
        yield
        return
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_parallel_workers_per_gather'), "
            "set_config('max_parallel_workers_per_gather', '0', true)"
        )
        before = cursor.fetchone()[0]
        yield
        if nested:
            cursor.execute(
                "SELECT set_config('max_parallel_workers_per_gather', %s, true)", [before]
            )


def kept_by_triggers() -> bool:
    """The triggers keeping `Occupancy`, `StatusCount`, `UnassignedCount` and the copies
    (`Application.nationality` and `.search_key`, `Placement.unit`) exist on PostgreSQL
    only; on other databases (the embedded SQLite default) rows are counted, and the copied
    facts read through the applicant or the case, when needed."""
    return connection.vendor == "postgresql"


def occupancy_by_regime(facility_id: int | None = None) -> dict[int, dict[str, int]]:
    """Open placements per facility and regime ({facility id: {regime: people}}), of one
    facility or of all."""
    if kept_by_triggers():
        rows = Occupancy.objects.values_list("facility_id", "regime", "people")
    else:
        rows = (
            Placement.objects.current()
            .order_by()
            .values_list("facility_id", "regime")
            .annotate(people=Count("*"))
        )
    if facility_id is not None:
        rows = rows.filter(facility_id=facility_id)
    counts: dict[int, dict[str, int]] = {}
    for facility, regime, people in rows:
        if people:
            counts.setdefault(facility, {})[regime] = people
    return counts


def unassigned_open_cases(unit_id: int | None) -> int:
    """How many open cases nobody is assigned to: of one unit, or of all with None."""
    if kept_by_triggers():
        rows = UnassignedCount.objects.filter(status__in=OPEN_STATUSES)
        total = Sum("cases")
    else:
        rows = Application.objects.open().filter(assigned_to__isnull=True)
        total = Count("*")
    if unit_id is not None:
        rows = rows.filter(unit_id=unit_id)
    return rows.order_by().aggregate(n=total)["n"] or 0


def cases_by_status(unit_id: int | None) -> dict[str, int]:
    """How many cases there are in each status: of one unit, or of all with None."""
    if kept_by_triggers():
        rows = StatusCount.objects.all()
        total = Sum("cases")
    else:
        rows = Application.objects.all()
        total = Count("*")
    if unit_id is not None:
        rows = rows.filter(unit_id=unit_id)
    counts = rows.order_by().values_list("status").annotate(n=total)
    return {status: n for status, n in counts if n}


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=VILNIUS)


def count_due(deadlines, now: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    """Of `deadlines`, how many are overdue at `now` and how many fall due from `now` until
    `until`, counted from the rows in one query."""
    counts = deadlines.order_by().aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        soon=Count("pk", filter=Q(due_at__gte=now, due_at__lt=until)),
    )
    return counts["overdue"], counts["soon"]


def due_counts(
    now: dt.datetime, until: dt.datetime, *, unit_id: int | None, assignee_id: int | None
) -> tuple[int, int]:
    """How many open deadlines of live cases are overdue at `now`, and how many fall due from
    `now` until `until`: of one unit (all with None), of the cases of one assignee (whoever
    with None).

    Where the triggers keep `DueCount` (PostgreSQL), the whole days come from its rows, and
    of the two days that `now` and `until` cut only the part before each moment from the
    deadlines themselves: today's deadlines due before `now` (overdue; the rest of today's
    row is due soon) and the last day's due before `until`. A limit mostly falls due at the
    end of its day, so both parts are a few rows whatever the number of cases (at most the
    day's deadlines of every unit, in a day's last minute). Elsewhere the deadlines are
    counted."""
    today, last = timezone.localdate(now), timezone.localdate(until)
    if not kept_by_triggers() or last <= today:
        deadlines = Deadline.objects.live().filter(due_at__lt=until)
        if unit_id is not None:
            deadlines = deadlines.filter(application__unit_id=unit_id)
        if assignee_id is not None:
            deadlines = deadlines.filter(application__assigned_to_id=assignee_id)
        return count_due(deadlines, now, until)
    stored = DueCount.objects.filter(
        assignee=DueCount.ANYONE if assignee_id is None else assignee_id
    )
    if unit_id is not None:
        stored = stored.filter(unit_id=unit_id)
    whole = stored.order_by().aggregate(
        before=Sum("deadlines", filter=Q(due_day__lt=today)),
        today=Sum("deadlines", filter=Q(due_day=today)),
        between=Sum("deadlines", filter=Q(due_day__gt=today, due_day__lt=last)),
    )
    # The open deadlines due in those parts, of every unit: a few rows, found along the
    # deadlines' index by due moment and kept here by scope. (Filtered by unit or assignee in
    # the query, the planner walks the scope's cases instead, a caseworker's thousand cases
    # for a handful of deadlines: it expects a day's share of the rows in any part of it.)
    parts = (
        Deadline.objects.live()
        .filter(
            Q(due_at__gte=start_of_day(today), due_at__lt=now)
            | Q(due_at__gte=start_of_day(last), due_at__lt=until)
        )
        .order_by()
        .values_list("due_at", "application__unit_id", "application__assigned_to_id")
    )
    with without_parallel_workers():
        rows = list(parts)
    earlier_today = last_day = 0
    for due_at, unit, assignee in rows:
        if unit_id not in (None, unit) or assignee_id not in (None, assignee):
            continue
        if due_at < now:
            earlier_today += 1
        else:
            last_day += 1
    overdue = (whole["before"] or 0) + earlier_today
    return overdue, (whole["today"] or 0) - earlier_today + (whole["between"] or 0) + last_day


def missed_count(since: dt.date, *, unit_id: int | None) -> int:
    """How many deadlines were missed (closed late) on `since` or a later day, Vilnius time:
    of one unit's cases (all with None). From the stored counts where the triggers keep them
    (PostgreSQL); elsewhere the deadlines are counted."""
    if not kept_by_triggers():
        deadlines = Deadline.objects.missed_since(start_of_day(since))
        if unit_id is not None:
            deadlines = deadlines.filter(application__unit_id=unit_id)
        return deadlines.count()
    stored = MissedCount.objects.filter(closed_day__gte=since)
    if unit_id is not None:
        stored = stored.filter(unit_id=unit_id)
    return stored.order_by().aggregate(n=Sum("deadlines"))["n"] or 0


# ---------------------------------------------------------------------------------------------
# The case timeline (append-only, hash-chained)
# ---------------------------------------------------------------------------------------------


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Case events are append-only: they are never updated.")

    def delete(self):
        raise TypeError("Case events are append-only: they are never deleted.")

    def bulk_create(self, *args, **kwargs):
        raise TypeError("Case events are written one by one by cases.audit.record_event.")

    def timeline(self):
        """The main timeline: everything but views of the case."""
        return self.exclude(kind=CaseEvent.Kind.ACCESS)

    def access_log(self):
        return self.filter(kind=CaseEvent.Kind.ACCESS)


class CaseEvent(models.Model):
    """One entry of a case's timeline. Inserted by `cases.audit.record_event` only.

    Events point at personal data and never copy it: `data` holds ids, codes and dates;
    the free text that belongs to the event (a transition's reason) is `reason`, which
    retention may redact (setting `redacted_by`); `reason_digest` keeps the chain verifiable.
    """

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Status change")
        NOTE = "note", _("Note")
        DOCUMENT = "document", _("Document")
        PLACEMENT = "placement", _("Placement")
        DEADLINE = "deadline", _("Deadline")
        RECORD = "record", _("Case record")
        ACCESS = "access", _("Access")
        RETENTION = "retention", _("Retention")

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    action = models.CharField(_("action"), max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    # When the event was written, which differs from `at` when a fact is recorded after the
    # day it happened (an interview recorded the next week, a sample case imported). Empty on
    # events written before it was kept.
    recorded_at = models.DateTimeField(
        _("recorded at"), null=True, blank=True, editable=False, default=timezone.now
    )
    from_status = models.CharField(
        _("from status"), max_length=20, choices=Status.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=20, choices=Status.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    reason_digest = models.CharField(max_length=64, blank=True, editable=False)
    data = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    redacted_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [
            models.Index(fields=["application", "-at", "-id"], name="event_case_time_idx"),
            models.Index(fields=["application", "kind"], name="event_case_kind_idx"),
            # The chain's latest event (`audit.record_event`, on every view of a case): one
            # index entry instead of sorting all the case's events, views included.
            models.Index(fields=["application", "id"], name="event_case_chain_idx"),
            # The case page's timeline and access log, each newest first without stepping
            # over the other: a case viewed often has far more views than events.
            models.Index(
                fields=["application", "-at", "-id"],
                condition=~Q(kind="access"),
                name="event_case_timeline_idx",
            ),
            models.Index(
                fields=["application", "-at", "-id"],
                condition=Q(kind="access"),
                name="event_case_access_idx",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="caseevent_no_delete", operation=pgtrigger.Delete),
            # Only retention may touch a row, and only to redact its free-text payload.
            pgtrigger.Protect(
                name="caseevent_no_update",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["reason", "redacted_by"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------------------------
# Notes and documents
# ---------------------------------------------------------------------------------------------


class Note(models.Model):
    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("note"), max_length=20_000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.application} — {self.created_at:%Y-%m-%d}"


def _document_path(instance, filename: str) -> str:
    # A random name: the original name is kept in the row, never in the file system.
    return f"documents/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


class Document(models.Model):
    class Kind(models.TextChoices):
        DECISION = "decision", _("Decision")
        INTERVIEW_RECORD = "interview_record", _("Interview record")
        IDENTITY = "identity", _("Identity document")
        COURT_ORDER = "court_order", _("Court order")
        EVIDENCE = "evidence", _("Evidence")
        CORRESPONDENCE = "correspondence", _("Correspondence")
        OTHER = "other", _("Other")

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(
        _("type of document"), max_length=20, choices=Kind.choices, default=Kind.OTHER
    )
    # What a reader calls the document; the file's own name is kept beside it.
    title = models.CharField(_("title"), max_length=200, blank=True)
    file = models.FileField(_("file"), upload_to=_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "sha256"], name="document_unique_per_case"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The document's title, or its file name when it has none."""
        return self.title or self.original_name


# ---------------------------------------------------------------------------------------------
# Personal interviews
# ---------------------------------------------------------------------------------------------


class InterviewQuerySet(models.QuerySet):
    def scheduled(self):
        return self.filter(status=Interview.Status.SCHEDULED)


class Interview(models.Model):
    """A personal interview scheduled on a case: when, who interviews (a worker of the
    case's unit), the interpreter and the language; then held (with its record, a document
    of the case), missed, or cancelled. Changed only through `cases.workflow`; the case's
    `interviewed_on` is set from the interview held."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="interviews"
    )
    scheduled_at = models.DateTimeField(_("scheduled for"))
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("interviewer"),
        on_delete=models.PROTECT,
        related_name="interviews",
    )
    # The interpreter's name and the language are personal data: retention redacts them.
    interpreter = models.CharField(_("interpreter"), max_length=200, blank=True)
    language = models.CharField(_("language of the interview"), max_length=100)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED
    )
    held_on = models.DateField(_("held on"), null=True, blank=True)
    missed_on = models.DateField(_("missed on"), null=True, blank=True)
    # The interview's record: a document of the case of the kind "interview record".
    record = models.ForeignKey(
        Document,
        verbose_name=_("interview record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = InterviewQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        verbose_name = _("personal interview")
        verbose_name_plural = _("personal interviews")
        indexes = [
            models.Index(fields=["application", "-scheduled_at"], name="interview_case_idx"),
            # An interviewer's upcoming interviews ("my interviews"), without the table.
            models.Index(
                fields=["interviewer", "scheduled_at"],
                condition=Q(status="scheduled"),
                name="interview_upcoming_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "held", "missed", "cancelled"]),
                name="interview_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(held_on__isnull=True) | Q(status="held"),
                name="interview_held_on_only_if_held",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(held_on__isnull=False),
                name="interview_held_has_date",
            ),
            models.CheckConstraint(
                condition=Q(missed_on__isnull=True) | Q(status="missed"),
                name="interview_missed_on_only_if_missed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} — {timezone.localtime(self.scheduled_at):%Y-%m-%d %H:%M}"

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED


# ---------------------------------------------------------------------------------------------
# Statutory deadlines
# ---------------------------------------------------------------------------------------------


def _validate_lead_days(value: str) -> None:
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and 0 < int(p) <= 365 for p in parts):
        raise ValidationError(
            _("Give whole numbers of days between 1 and 365, separated by commas (e.g. 14,3,1).")
        )


def _codes(value: str) -> list[str]:
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def _validate_procedures(value: str) -> None:
    unknown = [c for c in _codes(value) if c not in Application.Procedure.values]
    if unknown:
        raise ValidationError(
            _("Unknown procedure: %(codes)s. Use: %(known)s.")
            % {"codes": ", ".join(unknown), "known": ", ".join(Application.Procedure.values)}
        )


def _validate_outcomes(value: str) -> None:
    unknown = [c for c in _codes(value) if c not in Application.Outcome.values]
    if unknown:
        raise ValidationError(
            _("Unknown decision: %(codes)s. Use: %(known)s.")
            % {"codes": ", ".join(unknown), "known": ", ".join(Application.Outcome.values)}
        )


class DeadlineRule(models.Model):
    """A statutory time limit, as data: administrators edit these in the admin."""

    class StartEvent(models.TextChoices):
        SUBMITTED = "submitted", _("Application made (submitted)")
        LODGED = "lodged", _("Application lodged")
        RESPONSIBILITY_DETERMINED = (
            "responsibility_determined",
            _("Responsibility determined (Dublin)"),
        )
        DETAINED = "detained", _("Detention started (from the apprehension)")
        DETENTION_REVIEW = "detention_review", _("Detention started or last reviewed")
        DUBLIN_REQUEST_SENT = "dublin_request_sent", _("Dublin request sent")
        TRANSFER_ACCEPTED = "transfer_accepted", _("Another Member State responsible (Dublin)")
        TRANSFER_IMPRISONMENT = (
            "transfer_imprisonment",
            _("Transfer period extended: imprisonment"),
        )
        TRANSFER_ABSCONDING = "transfer_absconding", _("Transfer period extended: absconding")
        COURT_ORDER_UNTIL = "court_order_until", _("Court order's 'until' date")
        ENTERED = "entered", _("Entry into the territory")
        SERVED = "served", _("Decision served")
        REMITTED = "remitted", _("Court remittal")
        TRANSFER_DECISION_SERVED = "transfer_decision_served", _("Dublin transfer decision served")
        JUDGMENT_PRONOUNCED = (
            "judgment_pronounced",
            _("First-instance judgment on an appeal pronounced"),
        )
        IMPLICITLY_WITHDRAWN = (
            "implicitly_withdrawn",
            _("Implicit withdrawal (discontinuation of the examination)"),
        )
        INADMISSIBILITY_EXTENDED = (
            "inadmissibility_extended",
            _("Examination of admissibility extended (from the lodging)"),
        )
        UNACCOMPANIED_MINOR = (
            "unaccompanied_minor",
            _("Unaccompanied minor without a representative (from the lodging)"),
        )

    class TimeUnit(models.TextChoices):
        HOURS = "hours", _("hours")
        CALENDAR_DAYS = "calendar_days", _("calendar days")
        WORKING_DAYS = "working_days", _("working days")
        MONTHS = "months", _("months")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    legal_source = models.CharField(_("legal source"), max_length=300)

    class StopEvent(models.TextChoices):
        NONE = "", _("Only when the case or the detention ends")
        LODGED = "lodged", _("Application lodged")
        DECIDED = "decided", _("First-instance decision")
        COURT_ORDER = "court_order", _("Court order on detention recorded")
        DETENTION_REVIEWED = "detention_reviewed", _("Detention reviewed (or a court order)")
        APPEAL_LODGED = "appeal_lodged", _("Appeal lodged")
        TRANSFER_APPEAL_LODGED = (
            "transfer_appeal_lodged",
            _("Appeal against the Dublin transfer decision lodged"),
        )
        FURTHER_APPEAL_LODGED = (
            "further_appeal_lodged",
            _("Further appeal lodged with the Supreme Administrative Court"),
        )
        DUBLIN_REQUEST = "dublin_request", _("Dublin request sent")
        DUBLIN_REPLY = "dublin_reply", _("Reply to the Dublin request (or acceptance by default)")
        TRANSFERRED = "transferred", _("Transferred to the Member State responsible")
        VULNERABILITY_ASSESSED = "vulnerability_assessed", _("Vulnerability assessed")
        REPRESENTATIVE_APPOINTED = (
            "representative_appointed",
            _("Representative of the unaccompanied minor appointed"),
        )
        BORDER_ENDED = (
            "border_ended",
            _("Border procedure ended (final decision, or the case left the procedure)"),
        )

    start_event = models.CharField(_("starts at"), max_length=30, choices=StartEvent.choices)
    stop_event = models.CharField(
        _("met by"), max_length=30, choices=StopEvent.choices, blank=True, default=""
    )
    duration = models.PositiveIntegerField(_("length"), validators=[MaxValueValidator(10_000)])
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    roll_forward = models.BooleanField(
        _("moves off weekends and holidays"),
        default=False,
        help_text=_(
            "A last day on a weekend or public holiday moves to the next working day "
            "(Civil Code Art. 1.121)."
        ),
    )
    reminder_days = models.CharField(
        _("reminder lead times (days)"),
        max_length=50,
        default="14,3,1",
        blank=True,
        validators=[_validate_lead_days],
    )

    class Kind(models.TextChoices):
        DEADLINE = "deadline", _("Deadline (met or missed)")
        ENTITLEMENT = "entitlement", _("Entitlement from a date (never missed)")

    class KeyDate(models.TextChoices):
        MADE = "made", _("the date the application was made")
        REGISTERED = "registered", _("the date the application was registered (lodged)")

    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=Kind.choices,
        default=Kind.DEADLINE,
        help_text=_(
            "An entitlement (the right to work) starts on its date; it is never overdue or "
            "missed, and reminds nobody."
        ),
    )
    family = models.SlugField(
        _("family"),
        max_length=50,
        blank=True,
        help_text=_(
            "Rules of one family are alternatives (for example the appeal windows): of those "
            "that apply to a case, the one with the most conditions is used. Empty: the rule "
            "is a family of its own."
        ),
    )
    key_date = models.CharField(
        _("rule set chosen by"),
        max_length=20,
        choices=KeyDate.choices,
        default=KeyDate.MADE,
        help_text=_("The case's date compared with 'applies from' and 'applies until'."),
    )
    procedures = models.CharField(
        _("only in the procedures"),
        max_length=200,
        blank=True,
        validators=[_validate_procedures],
        help_text=_("Procedure codes separated by commas (e.g. accelerated,border); empty: any."),
    )
    outcomes = models.CharField(
        _("only after the decisions"),
        max_length=300,
        blank=True,
        validators=[_validate_outcomes],
        help_text=_("Decision codes separated by commas (e.g. inadmissible); empty: any."),
    )
    applies_from = models.DateField(_("applies from (key date)"), null=True, blank=True)
    applies_until = models.DateField(_("applies until (key date)"), null=True, blank=True)
    is_active = models.BooleanField(_("in force"), default=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        ordering = ["start_event", "code"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(applies_from__isnull=True)
                | Q(applies_until__isnull=True)
                | Q(applies_until__gte=models.F("applies_from")),
                name="deadlinerule_period_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def lead_days(self) -> list[int]:
        """The reminder lead times in days, largest first. Anything that is not a plain
        whole number is ignored (the form validator refuses it; this guards old rows)."""
        parts = (p.strip() for p in (self.reminder_days or "").split(","))
        return sorted({int(p) for p in parts if p.isascii() and p.isdigit()}, reverse=True)

    def applies_to(self, key_day: dt.date) -> bool:
        """Whether a case whose key date (`key_date`) is `key_day` falls in this rule's period."""
        if self.applies_from and key_day < self.applies_from:
            return False
        return not (self.applies_until and key_day > self.applies_until)

    def key_day(self, application: Application) -> dt.date:
        """The case's date this rule's period is compared with. A case not lodged yet is
        judged by the day it was made (lodging cannot precede it)."""
        if self.key_date == self.KeyDate.REGISTERED and application.lodged_on:
            return application.lodged_on
        return application.submitted_on

    def procedure_list(self) -> list[str]:
        return _codes(self.procedures)

    def outcome_list(self) -> list[str]:
        return _codes(self.outcomes)

    def specificity(self) -> int:
        """How many conditions the rule sets (the most specific rule of a family wins)."""
        return bool(self.procedure_list()) + bool(self.outcome_list())

    def matches(self, application: Application) -> bool:
        """Whether the rule applies to the case as it is: its period (by the rule's key
        date), its procedures and its decisions."""
        procedures, outcomes = self.procedure_list(), self.outcome_list()
        if procedures and application.procedure not in procedures:
            return False
        if outcomes and application.decision_outcome not in outcomes:
            return False
        return self.applies_to(self.key_day(application))

    @property
    def family_name(self) -> str:
        return self.family or self.code

    @property
    def is_entitlement(self) -> bool:
        return self.kind == self.Kind.ENTITLEMENT


class DeadlineQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Deadline.Status.OPEN)

    def running(self):
        """Open deadlines and entitlements not yet closed (what a stop event closes)."""
        return self.filter(status__in=(Deadline.Status.OPEN, Deadline.Status.ENTITLEMENT))

    def missed_since(self, moment):
        """Deadlines closed late (missed) from `moment` on, along a partial index."""
        return self.filter(status=Deadline.Status.MISSED, closed_at__gte=moment)

    def live(self):
        """Open deadlines of live cases: those of a case recorded after the fact
        (`Application.recorded_as_of`) are history, not alarms."""
        return self.open().filter(application__recorded_as_of__isnull=True)

    def overdue(self, now: dt.datetime | None = None):
        return self.live().filter(due_at__lt=now or timezone.now())


class Deadline(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MET = "met", _("Met")
        MISSED = "missed", _("Missed")
        WAIVED = "waived", _("Waived")
        CANCELLED = "cancelled", _("Cancelled")
        # An entitlement (`DeadlineRule.Kind.ENTITLEMENT`) running: it starts on `due_on`
        # and is never overdue; closed, it is met (it began) or cancelled (it never did).
        ENTITLEMENT = "entitlement", _("Entitlement")

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="deadlines"
    )
    rule = models.ForeignKey(
        DeadlineRule,
        verbose_name=_("rule"),
        to_field="code",
        db_column="rule",
        on_delete=models.PROTECT,
        related_name="deadlines",
    )
    placement = models.ForeignKey(
        Placement, on_delete=models.PROTECT, null=True, blank=True, related_name="deadlines"
    )
    starts_at = models.DateTimeField(_("clock started"))
    due_on = models.DateField(_("due on"))
    due_at = models.DateTimeField(_("met until"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    waive_reason = models.TextField(_("reason for waiving"), blank=True)
    legal_reference = models.CharField(_("legal source"), max_length=300)
    # Which of the case's dates chose the rule (its family's rule set: national, APR, AMMR),
    # and that date as it was when the deadline opened.
    rule_set_key = models.CharField(
        _("rule set chosen by"),
        max_length=20,
        choices=DeadlineRule.KeyDate.choices,
        blank=True,
        default="",
        db_default="",
    )
    rule_set_date = models.DateField(_("rule set chosen by the date"), null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="open"), name="deadline_open_due_idx"
            ),
            models.Index(fields=["application", "status"], name="deadline_case_status_idx"),
            # The dashboard's counts of a person's open deadlines by due moment, without
            # visiting the table.
            models.Index(
                fields=["application", "due_at"],
                condition=Q(status="open"),
                name="deadline_case_open_due_idx",
            ),
            # The decision-makers' dashboard counts the limits missed in the last 30 days.
            models.Index(
                fields=["closed_at"], condition=Q(status="missed"), name="deadline_missed_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "rule"],
                condition=Q(status="open"),
                name="deadline_one_open_per_rule",
            ),
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waive_reason=""),
                name="deadline_waiver_has_reason",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="deadline_keeps_due_counts",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                declare=DEADLINE_KEEPS_DUE_COUNTS_DECLARE,
                func=DEADLINE_KEEPS_DUE_COUNTS,
            ),
            pgtrigger.Trigger(
                name="deadline_keeps_missed_counts",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                declare=DEADLINE_KEEPS_MISSED_COUNTS_DECLARE,
                func=DEADLINE_KEEPS_MISSED_COUNTS,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} — {self.due_on}"

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        """Open and past its moment, on a live case (a case recorded after the fact shows
        its clocks as history: see `Application.recorded_as_of`)."""
        return (
            self.status == self.Status.OPEN
            and self.due_at < (now or timezone.now())
            and self.application.recorded_as_of is None
        )

    def days_left(self, today: dt.date | None = None) -> int:
        """Calendar days from today (Vilnius) to the legal date; negative when overdue."""
        return (self.due_on - (today or timezone.localdate())).days


class Reminder(models.Model):
    """One reminder of one deadline, at one lead-time level, to one person: an outbox row.

    The unique constraint is what makes a repeated sweep create nothing twice. Level: the
    lead time in days that was reached (14, 3, 1), or 0 for overdue. A send first claims the
    row (`claimed_at`, a conditional UPDATE that must touch one row) and marks `sent_at` when
    the message went out; a claim older than the grace period belongs to a dead worker and
    the sweep releases it (see `cases.reminders`).
    """

    deadline = models.ForeignKey(
        Deadline, verbose_name=_("deadline"), on_delete=models.CASCADE, related_name="reminders"
    )
    level = models.PositiveSmallIntegerField(_("days before"), validators=[MinValueValidator(0)])
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "level", "recipient"], name="reminder_once_per_level"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="reminder_unsent_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deadline} / {self.level} / {self.recipient_id}"

    def level_label(self) -> str:
        if self.level == 0:
            return str(_("overdue"))
        return str(_("%(days)s days before") % {"days": self.level})


class Notification(models.Model):
    """An in-app message to one user (the header's unread count reads these).

    A reminder's notification is tied to it one-to-one and created in the same transaction
    as the send's claim, so it exists exactly once. A daily digest is one row per recipient
    and day (`digest_on`); its email is claimed and marked on the row like a reminder's.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        REMINDER = "reminder", _("Deadline reminder")
        DIGEST = "digest", _("Daily digest")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MESSAGE)
    text = models.CharField(_("text"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    reminder = models.OneToOneField(
        Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )
    digest_on = models.DateField(_("digest of"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("email being sent since"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["digest_on"],
                condition=Q(kind="digest", emailed_at__isnull=True),
                name="notification_digest_unsent_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "digest_on"],
                condition=Q(kind="digest"),
                name="notification_one_digest_per_day",
            ),
            models.CheckConstraint(
                condition=~Q(kind="digest") | Q(digest_on__isnull=False),
                name="notification_digest_has_day",
            ),
        ]

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------------
# Audit checkpoints (append-only)
# ---------------------------------------------------------------------------------------------


class AuditCheckpointQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit checkpoints are append-only: they are never updated.")

    def delete(self):
        raise TypeError("Audit checkpoints are append-only: they are never deleted.")


class AuditCheckpoint(models.Model):
    """What one case's chain held at a moment: its newest event, that event's hash and how
    many events there were. Written by `cases.checkpoints` for chains that grew since their
    last checkpoint, so that a chain found shorter later (its newest events removed, which
    the hash chain alone cannot show) is reported. Append-only, like the events.

    `head_event_id` is a plain number, not a foreign key: the checkpoint is evidence about a
    row that may be removed behind Haven's back, and must not depend on that row existing.
    `through_event_id` is how far the run that wrote it read the events (the next run reads
    on from there).
    """

    application = models.ForeignKey(
        Application, verbose_name=_("case"), on_delete=models.PROTECT, related_name="+"
    )
    head_event_id = models.BigIntegerField(_("newest event"))
    head_hash = models.CharField(_("newest event's hash"), max_length=64)
    event_count = models.PositiveIntegerField(_("events"))
    through_event_id = models.BigIntegerField(_("events read up to"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    objects = AuditCheckpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        indexes = [
            models.Index(fields=["application", "-id"], name="checkpoint_case_latest_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="auditcheckpoint_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="auditcheckpoint_no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.event_count} events up to {self.head_event_id}"


# ---------------------------------------------------------------------------------------------
# Emergency ("break-glass") access
# ---------------------------------------------------------------------------------------------


class BreakGlassGrantQuerySet(models.QuerySet):
    def live(self, at: dt.datetime | None = None) -> BreakGlassGrantQuerySet:
        """Grants in force at `at` (now): started and not yet ended."""
        moment = at or timezone.now()
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class BreakGlassGrant(models.Model):
    """Emergency access of a caseworker of another unit to one case: who, which case, why,
    from when until when, and whether (by whom, when) the owning unit's decision-maker
    extended it from reading to working on the case.

    Made and extended by `cases.workflow` only (each a timeline event); read by
    `cases.predicates` and `cases.access`, which honour a live grant for reading and an
    extended live grant for working. Rows are kept after they end: they are the record that
    the administrators' report lists.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="break_glass_grants",
    )
    reason = models.TextField(_("why"))
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("extended to work by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    # Ended before its time by the case's unit's decision-maker or an administrator: `ends_at`
    # is then the moment it was ended (the planned end is on the timeline event).
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended early by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("ended early at"), null=True, blank=True)
    revoke_reason = models.TextField(_("why ended early"), blank=True, default="")

    objects = BreakGlassGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        indexes = [
            models.Index(fields=["user", "ends_at"], name="breakglass_user_until_idx"),
            models.Index(fields=["application", "-starts_at"], name="breakglass_case_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="breakglass_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(extended_by__isnull=True, extended_at__isnull=True)
                | Q(extended_by__isnull=False, extended_at__isnull=False),
                name="breakglass_extension_complete",
            ),
            models.CheckConstraint(
                condition=Q(revoked_by__isnull=True, revoked_at__isnull=True)
                | Q(revoked_by__isnull=False, revoked_at__isnull=False),
                name="breakglass_revocation_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.application_id} until {self.ends_at:%Y-%m-%d %H:%M}"

    def is_live(self, at: dt.datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.starts_at <= moment < self.ends_at

    @property
    def extended(self) -> bool:
        return self.extended_at is not None


# ---------------------------------------------------------------------------------------------
# Sensitive fields
# ---------------------------------------------------------------------------------------------


class SensitiveField(models.Model):
    """A fact that pages, lists, exports and the API hide until a reader reveals it (each
    reveal recorded in the case's access log). Which facts these are is data that
    administrators edit: a row per fact, among those Haven knows how to hide
    (`SensitiveField.Fact`). Seeded with the special-category facts (health, sexual
    orientation and gender identity, trafficking or torture history, vulnerability, the
    vulnerability assessment's categories)."""

    class Fact(models.TextChoices):
        HEALTH = "applicant.health_notes", _("Applicant: health")
        SOGI = "applicant.sogi_notes", _("Applicant: sexual orientation and gender identity")
        TRAUMA = "applicant.trauma_history", _("Applicant: trafficking or torture history")
        VULNERABILITY = "applicant.vulnerability_details", _("Applicant: details of vulnerability")
        NAME_ORIGINAL = "applicant.name_original", _("Applicant: name in original script")
        ALIASES = "applicant.aliases", _("Applicant: aliases")
        MILITARY = "applicant.military_background", _("Applicant: military background")
        CLAIM = "application.claim_summary", _("Case: claim summary")
        WAIVER = "application.interview_waiver_reason", _("Case: reason the interview was waived")
        VULNERABILITIES = "application.vulnerabilities", _("Case: vulnerabilities found")

    fact = models.CharField(_("fact"), max_length=60, choices=Fact.choices, unique=True)
    hidden = models.BooleanField(
        _("hidden until revealed"),
        default=True,
        help_text=_("Untick to show this fact again without a reveal, keeping the row."),
    )
    note = models.CharField(_("why"), max_length=300, blank=True)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        ordering = ["fact"]
        verbose_name = _("sensitive field")
        verbose_name_plural = _("sensitive fields")

    def __str__(self) -> str:
        return str(self.get_fact_display())


DEFAULT_SENSITIVE_FACTS = (
    SensitiveField.Fact.HEALTH,
    SensitiveField.Fact.SOGI,
    SensitiveField.Fact.TRAUMA,
    SensitiveField.Fact.VULNERABILITY,
    # The categories of the vulnerability assessment: health, torture, rape, trafficking.
    SensitiveField.Fact.VULNERABILITIES,
)


def hidden_facts() -> frozenset[str]:
    """The facts hidden until revealed now ("applicant.health_notes", ...): one query. Read
    from the database on every request, never from a cache: a fact an administrator or a
    migration hides must be hidden on the next page, however it was changed."""
    return frozenset(SensitiveField.objects.filter(hidden=True).values_list("fact", flat=True))
