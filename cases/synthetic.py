"""Synthetic cases for benchmarks and load tests, loaded into PostgreSQL with COPY.

`generate(count, seed=...)` writes `count` realistic cases: applicants with Latin and Cyrillic
names (passport spelling, other romanisations as aliases), every status, placements at
reception and detention facilities, deadlines opened, met, missed and cancelled as the rules
in the database say (`cases.deadlines.rule_due`), timelines of 5 to 50 events (one case of
exactly 200), units of different sizes with caseworkers and decision-makers, assignments.

Why not `cases.workflow`: it takes a few milliseconds and a dozen queries per step, so a
hundred thousand cases would take hours. Instead each case's story is simulated here with the
same rules as the workflow (the same events, data, deadline arithmetic and closing rules), and
the rows are written with COPY. What keeps the two honest: the timeline of every generated
case is a valid hash chain (`cases.audit.event_hash`, so `verify_audit` passes), and
`tests/cases/test_generate_cases.py` checks the generated cases against the workflow's
invariants.

Everything generated is marked: references start with `SYN-`, units, facilities and users
are named "SYN ..." / `syn-...`, and every claim summary says the case is synthetic.

Speed (STACK.md, "Speed at a million cases"): rows are streamed with COPY by a writer thread
while the main thread simulates the next cases (two cores: Python on one, PostgreSQL on the
other); ids are explicit and the sequences are set afterwards. Run on its own (not inside a
transaction), the load drops the foreign keys of the loaded tables and re-adds them
`NOT VALID` then `VALIDATE`s them (Django's keys are `DEFERRABLE INITIALLY DEFERRED`, so
millions of row checks would otherwise fire at COMMIT), turns off the field-history triggers
of applicants and applications (synthetic rows have no history of their creation) and the
triggers keeping the stored counts (status counts, occupancy: recounted once after the
load), and ends
with `VACUUM ANALYZE`. Inside a caller's transaction (tests) it changes no schema and checks
the foreign keys before returning (`SET CONSTRAINTS ALL IMMEDIATE`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from accounts import roles
from accounts.models import Unit, User

from .audit import event_hash
from .deadlines import VILNIUS, rule_due
from .models import (
    RECOUNT_SQL,
    Applicant,
    Application,
    CaseEvent,
    Deadline,
    DeadlineRule,
    Facility,
    Note,
    Placement,
)

# Bump when the shape of generated data changes: benchmark databases built by an older
# generator are then rebuilt (bench/run.py compares it with what the database recorded).
GENERATOR_VERSION = 3
REFERENCE_PREFIX = "SYN"
LONG_CASE_EVENTS = 200
MIN_EVENTS = 5
MAX_EVENTS = 50
CHUNK_LINES = 50_000
SYNTHETIC_MARK = "Synthetic case generated for load testing; not a real person."

Progress = Callable[[str], None]

# ------------------------------------------------------------------------------------------
# Reference data: units, facilities, names
# ------------------------------------------------------------------------------------------

# (name, share of the cases): the first is clearly the largest.
UNITS: tuple[tuple[str, float], ...] = (
    ("SYN Migration Department, Asylum Division", 0.50),
    ("SYN Migration Department, Vilnius Office", 0.20),
    ("SYN State Border Guard Service, Pabradė Frontier Station", 0.15),
    ("SYN State Border Guard Service, Vilnius Frontier District", 0.10),
    ("SYN Migration Department, Kaunas Office", 0.05),
)

# (code, name, kind, operator, address, share of placements of its kind)
FACILITIES: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("syn-frc-pabrade", "SYN Foreigners' Registration Centre, Pabradė", "detention",
     "State Border Guard Service", "Vilniaus g. 100, Pabradė", 0.45),
    ("syn-frc-kybartai", "SYN Foreigners' Registration Centre, Kybartai", "detention",
     "State Border Guard Service", "Kybartai", 0.25),
    ("syn-medininkai", "SYN Medininkai Frontier Station holding unit", "detention",
     "State Border Guard Service", "Medininkai", 0.10),
    ("syn-alytus", "SYN Alytus Accommodation Centre", "mixed",
     "State Border Guard Service", "Alytus", 0.20),
    ("syn-rukla", "SYN Refugee Reception Centre, Rukla", "reception",
     "Migration Department", "Rukla, Jonava district", 0.40),
    ("syn-naujininkai", "SYN Refugee Reception Centre, Naujininkai", "reception",
     "Migration Department", "Vilnius", 0.30),
    ("syn-jieznas", "SYN Reception Centre, Jieznas", "reception",
     "Migration Department", "Jieznas", 0.15),
    ("syn-kaunas", "SYN Kaunas Accommodation Centre", "mixed",
     "Migration Department", "Kaunas", 0.15),
)  # fmt: skip

STAFF_GIVEN = (
    "Aistė",
    "Tomas",
    "Rūta",
    "Mantas",
    "Eglė",
    "Lukas",
    "Ieva",
    "Darius",
    "Greta",
    "Jonas",
    "Lina",
    "Paulius",
    "Vaida",
    "Marius",
    "Agnė",
    "Karolis",
    "Indrė",
    "Andrius",
)
STAFF_FAMILY = (
    "Kazlauskas", "Jankauskienė", "Petrauskas", "Stankevičiūtė", "Vasiliauskas", "Žukauskaitė",
    "Butkus", "Paulauskienė", "Urbonas", "Kavaliauskaitė", "Navickas", "Ramanauskienė",
)  # fmt: skip

CYR_MALE = (
    "Иван",
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Юрий",
    "Михаил",
    "Николай",
    "Павел",
    "Владимир",
    "Артём",
    "Фёдор",
    "Евгений",
    "Максим",
    "Илья",
    "Тимур",
    "Руслан",
    "Фаррух",
    "Азамат",
    "Бахтияр",
    "Вячеслав",
    "Кирилл",
    "Олег",
    "Григорий",
    "Ярослав",
)
CYR_FEMALE = (
    "Анна",
    "Мария",
    "Екатерина",
    "Ольга",
    "Наталья",
    "Юлия",
    "Татьяна",
    "Светлана",
    "Ксения",
    "Дарья",
    "Алёна",
    "Зарина",
    "Гульнара",
    "Людмила",
    "Елизавета",
    "Софья",
)
CYR_FAMILY = (
    "Королёв", "Петров", "Смирнов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Козлов",
    "Новиков", "Морозов", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов",
    "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Беляев",
    "Тарасов", "Белов", "Комаров", "Орлов", "Киселёв", "Макаров", "Андреев", "Ковалёв",
    "Ильин", "Гусев", "Титов", "Кузьмин", "Кудрявцев", "Баранов", "Куликов", "Алексеев",
    "Степанов", "Яковлев", "Сорокин", "Сергеев", "Романов", "Захаров", "Борисов", "Щукин",
    "Юсупов", "Рахимов", "Каримов", "Назаров", "Исмаилов", "Жуков", "Цветков", "Хохлов",
    "Чернов", "Короленко", "Шевченко", "Бондаренко", "Ткаченко", "Коваленко", "Кравченко",
    "Олейник", "Шевчук", "Лукашевич", "Жданович", "Климович", "Мирзоев", "Шарипов", "Эргашев",
)  # fmt: skip

LATIN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # nationality: (male given names, female given names, family names)
    "AF": (("Ahmad", "Mohammad", "Hamid", "Farid", "Wahid", "Nasir", "Jawad"),
           ("Fatima", "Zahra", "Mariam", "Parisa", "Nadia"),
           ("Hosseini", "Rahimi", "Ahmadi", "Karimi", "Sultani", "Nazari", "Haidari", "Popal")),
    "IQ": (("Ali", "Hassan", "Hussein", "Mustafa", "Omar", "Ahmed", "Karim"),
           ("Noor", "Aya", "Zainab", "Huda", "Layla"),
           ("Al-Jabouri", "Khalil", "Al-Obaidi", "Saleh", "Mansour", "Al-Tamimi", "Jasim")),
    "SY": (("Mohammed", "Khaled", "Samer", "Bashar", "Yousef", "Rami"),
           ("Rana", "Lina", "Hala", "Amal", "Dima"),
           ("Haddad", "Al-Hassan", "Khoury", "Darwish", "Hamdan", "Al-Ali", "Nasser")),
    "TR": (("Mehmet", "Mustafa", "Ahmet", "Emre", "Burak", "Çağlar"),
           ("Ayşe", "Elif", "Zeynep", "Gülşen", "Merve"),
           ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın")),
    "IN": (("Amit", "Rahul", "Gurpreet", "Sandeep", "Vikram"),
           ("Priya", "Anjali", "Harpreet", "Kavita"),
           ("Singh", "Kumar", "Sharma", "Patel", "Gill", "Kaur")),
    "LK": (("Nimal", "Kasun", "Ruwan", "Tharindu"),
           ("Dilani", "Nadeesha", "Chamari"),
           ("Perera", "Fernando", "Silva", "Jayasuriya", "Wickramasinghe")),
    "CU": (("José", "Yoandri", "Alejandro", "Raúl", "Yunior"),
           ("María", "Yaneisy", "Dayana", "Lourdes"),
           ("Rodríguez", "González", "Pérez", "Hernández", "Díaz", "Castillo")),
    "NG": (("Chinedu", "Emeka", "Oluwaseun", "Ibrahim", "Tunde"),
           ("Ngozi", "Adaeze", "Funmilayo", "Aisha"),
           ("Okafor", "Adeyemi", "Okonkwo", "Bello", "Eze", "Balogun")),
    "ER": (("Tesfaye", "Yonas", "Dawit", "Filmon", "Samuel"),
           ("Senait", "Helen", "Selam", "Mebrat"),
           ("Ghebremedhin", "Tesfamariam", "Haile", "Kidane", "Berhane")),
    "VN": (("Minh", "Tuấn", "Hùng", "Dũng"),
           ("Lan", "Hương", "Thảo"),
           ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng")),
}  # fmt: skip

# (nationality, weight, Cyrillic names?, languages)
NATIONALITIES: tuple[tuple[str, float, bool, str], ...] = (
    ("RU", 0.22, True, "Russian"),
    ("BY", 0.15, True, "Belarusian, Russian"),
    ("UA", 0.05, True, "Ukrainian, Russian"),
    ("TJ", 0.05, True, "Tajik, Russian"),
    ("KG", 0.03, True, "Kyrgyz, Russian"),
    ("KZ", 0.02, True, "Kazakh, Russian"),
    ("AF", 0.10, False, "Dari, Pashto"),
    ("IQ", 0.10, False, "Arabic, Kurdish"),
    ("SY", 0.07, False, "Arabic"),
    ("TR", 0.05, False, "Turkish"),
    ("IN", 0.04, False, "Hindi, Punjabi, English"),
    ("LK", 0.03, False, "Sinhala, Tamil"),
    ("CU", 0.03, False, "Spanish"),
    ("NG", 0.03, False, "English, Yoruba"),
    ("ER", 0.02, False, "Tigrinya"),
    ("VN", 0.01, False, "Vietnamese"),
    ("", 0.01, False, "Arabic"),  # stateless or unknown
)

_NATIONALITY_INDEXES = list(range(len(NATIONALITIES)))
_NATIONALITY_WEIGHTS = [n[1] for n in NATIONALITIES]

# Romanisations of Cyrillic: the passport (ICAO 9303) spelling is the Latin name; the
# English (BGN) and German spellings appear as aliases, as they do on older documents.
_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_BGN = {**_ICAO, "ё": "yo", "й": "y", "ъ": "", "ю": "yu", "я": "ya"}
_GERMAN = {
    **_ICAO, "в": "w", "ё": "jo", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z",
    "ч": "tsch", "ш": "sch", "щ": "schtsch", "ъ": "", "ы": "y", "ю": "ju", "я": "ja", "с": "s",
}  # fmt: skip


def romanise(text: str, table: dict[str, str]) -> str:
    """Cyrillic to Latin with one romanisation table, keeping capitals."""
    out = []
    for char in text:
        lower = char.lower()
        latin = table.get(lower)
        if latin is None:
            out.append(char)
        elif char != lower and latin:
            out.append(latin[0].upper() + latin[1:])
        else:
            out.append(latin)
    return "".join(out)


def _feminine(family: str) -> str:
    if family.endswith(("ов", "ев", "ёв", "ин")):
        return family + "а"
    return family


NOTE_TEXTS = (
    "Applicant called to ask about the interview date.",
    "Interpreter booked for the next appointment.",
    "Medical certificate received and added to the file.",
    "Country-of-origin information requested from the research unit.",
    "Lawyer asked for copies of the case file.",
    "Applicant reported a change of address within the centre.",
    "Identity documents checked against the border record.",
    "Follow-up questions prepared for the interview.",
    "Social worker reports the applicant's health is stable.",
    "Request for an extension of the deadline to submit evidence.",
    "Legal aid confirmed by the State-Guaranteed Legal Aid Service.",
    "Applicant did not attend; a new invitation was sent.",
)
REASONS = {
    "start_examination": ("Case allocated for examination.", "Examination begins."),
    "detain": (
        "Risk of absconding; no alternative to detention is sufficient.",
        "Identity could not be established at the border.",
    ),
    "release": ("Court did not extend the detention.", "Alternative to detention ordered."),
    "decide": ("Assessment of the claim completed.", "Credibility assessment concluded."),
    "appeal": ("Appeal lodged by the applicant's lawyer.",),
    "close": ("The decision is final.",),
    "withdraw": ("The applicant withdrew the application.", "The applicant absconded."),
}
OUTCOMES = (("rejected", 0.5), ("subsidiary_protection", 0.2), ("refugee_status", 0.2),
            ("inadmissible", 0.1))  # fmt: skip
COURTS = ("Regional Administrative Court, Vilnius", "Regional Administrative Court, Kaunas")
DETENTION_COURTS = ("Vilnius District Court", "Švenčionys District Court", "Alytus District Court")

# ------------------------------------------------------------------------------------------
# COPY text format
# ------------------------------------------------------------------------------------------

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(value: Any) -> str:
    """One value in COPY's text format: NULL as \\N, backslash, tab and newlines escaped."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


class Table:
    """A table loaded by COPY: the columns we fill, plus the model's other columns filled
    with their field defaults (so that a column added later does not break the load)."""

    def __init__(self, model: type[models.Model], columns: Iterable[str]) -> None:
        self.model = model
        self.name = model._meta.db_table
        self.columns = list(columns)
        known = {f.column for f in model._meta.concrete_fields}
        unknown = set(self.columns) - known
        if unknown:
            raise ValueError(f"{self.name} has no columns {sorted(unknown)}")
        extras = [f for f in model._meta.concrete_fields if f.column not in self.columns]
        self.extra_columns = [f.column for f in extras]
        self.extra_text = "".join("\t" + self._default_text(f) for f in extras)
        self.copy_sql = (
            f"COPY {self.name} ({', '.join(self.columns + self.extra_columns)}) FROM STDIN"
        )
        self.lines: list[str] = []
        self.rows = 0

    @staticmethod
    def _default_text(field: models.Field) -> str:
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return esc(json.dumps(value))
        return esc(value)

    def add(self, values: Iterable[str]) -> None:
        """Add one row of already-escaped values (in `columns` order)."""
        self.lines.append("\t".join(values) + self.extra_text + "\n")
        self.rows += 1


class CopyWriter:
    """Streams blocks of lines to PostgreSQL with COPY from a second thread, so that the
    simulation (Python, one core) and the load (PostgreSQL, the other core) overlap."""

    def __init__(self, raw_connection) -> None:
        self.raw = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="synthetic-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            sql, text = item
            try:
                with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                    copy.write(text)
            except BaseException as exc:  # re-raised in the main thread
                self.error = exc

    def flush(self, table: Table, *, force: bool = False) -> None:
        if self.error is not None:
            raise self.error
        if table.lines and (force or len(table.lines) >= CHUNK_LINES):
            self.queue.put((table.copy_sql, "".join(table.lines)))
            table.lines = []

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


# ------------------------------------------------------------------------------------------
# One case's story
# ------------------------------------------------------------------------------------------


class _Ids:
    """Explicit ids: the next free id of each loaded table."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def start(self, model: type[models.Model]) -> None:
        top = model.objects.aggregate(m=models.Max("pk"))["m"] or 0
        self.next[model._meta.db_table] = top + 1

    def take(self, model: type[models.Model]) -> int:
        table = model._meta.db_table
        value = self.next[table]
        self.next[table] = value + 1
        return value


class _Event:
    """What `cases.audit.event_hash` reads from an event (it only needs these attributes)."""

    __slots__ = (
        "action",
        "actor_id",
        "application_id",
        "at",
        "data",
        "from_status",
        "hash",
        "kind",
        "prev_hash",
        "reason",
        "reason_digest",
        "seq",
        "to_status",
    )


@lru_cache(maxsize=4096)
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=VILNIUS).astimezone(dt.UTC)


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(VILNIUS).date()


class _Story:
    """The rows of one case, built step by step the way `cases.workflow` would build them."""

    def __init__(self, gen: Generator, app_id: int, submitted_on: dt.date) -> None:
        self.gen = gen
        self.id = app_id
        self.submitted_on = submitted_on
        self.events: list[_Event] = []
        self.deadlines: dict[int, dict[str, Any]] = {}
        self.placements: dict[int, dict[str, Any]] = {}
        self.notes: list[tuple[int, int, str, dt.datetime]] = []
        self.status = "submitted"
        self.status_changed_at: dt.datetime | None = None
        self.fields: dict[str, Any] = {}
        self.current_placement: int | None = None

    # -- events -------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        action: str,
        actor: int | None,
        at: dt.datetime,
        *,
        from_status: str = "",
        to_status: str = "",
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        event = _Event()
        event.application_id = self.id
        event.kind = kind
        event.action = action
        event.actor_id = actor
        event.at = at
        event.from_status = from_status
        event.to_status = to_status
        event.reason = reason
        event.reason_digest = _digest(reason)
        event.data = data or {}
        event.seq = len(self.events)
        self.events.append(event)

    def transition(self, name: str, actor: int, at: dt.datetime, to: str, **data: Any) -> None:
        reason = self.gen.rng.choice(REASONS[name])
        self.event(
            "transition",
            name,
            actor,
            at,
            from_status=self.status,
            to_status=to,
            reason=reason,
            data={"transition": name, **data},
        )
        self.status = to
        self.status_changed_at = at

    # -- deadlines (as cases.deadlines) --------------------------------------------------

    def open_deadlines(
        self,
        start_event: str,
        start: dt.datetime,
        actor: int | None,
        *,
        placement: int | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        recorded = at or min(start, self.gen.now)
        for rule in self.gen.rules_for(start_event, self.submitted_on):
            for pk, row in list(self.deadlines.items()):
                if row["status"] == "open" and row["rule"] == rule.code:
                    self._close(pk, start, actor, "superseded")
            due_on, due_at = self.gen.due(rule, start)
            pk = self.gen.ids.take(Deadline)
            self.deadlines[pk] = {
                "rule": rule.code,
                "placement": placement,
                "starts_at": start,
                "due_on": due_on,
                "due_at": due_at,
                "status": "open",
                "closed_at": None,
                "legal": rule.legal_source,
                "stop": rule.stop_event,
            }
            self.event(
                "deadline",
                "opened",
                actor,
                recorded,
                data={"deadline": pk, "rule": rule.code, "due_on": due_on.isoformat()},
            )

    def _close(self, pk: int, at: dt.datetime, actor: int | None, how: str) -> None:
        row = self.deadlines[pk]
        if how in ("met", "superseded"):
            status = "met" if at <= row["due_at"] else "missed"
        else:
            status = "cancelled"
        row["status"] = status
        row["closed_at"] = at
        self.event(
            "deadline",
            status,
            actor,
            at,
            data={"deadline": pk, "rule": row["rule"], "due_on": str(row["due_on"])},
        )

    def meet(self, stop_event: str, at: dt.datetime, actor: int | None) -> None:
        for pk, row in list(self.deadlines.items()):
            if row["status"] == "open" and row["stop"] == stop_event:
                self._close(pk, at, actor, "met")

    def cancel_open(self, at: dt.datetime, actor: int | None) -> None:
        for pk, row in list(self.deadlines.items()):
            if row["status"] == "open":
                self._close(pk, at, actor, "cancelled")

    # -- placements ----------------------------------------------------------------------

    def place(
        self, facility: int, regime: str, at: dt.datetime, actor: int | None, **extra: Any
    ) -> int:
        pk = self.gen.ids.take(Placement)
        self.placements[pk] = {
            "facility": facility,
            "regime": regime,
            "starts_at": at,
            "ends_at": None,
            "end_reason": "",
            **extra,
        }
        self.current_placement = pk
        self.event(
            "placement",
            "placed",
            actor,
            at,
            data={"placement": pk, "facility": facility, "regime": regime},
        )
        return pk

    def end_placement(self, at: dt.datetime, actor: int | None, reason: str) -> None:
        pk = self.current_placement
        if pk is None:
            return
        row = self.placements[pk]
        row["ends_at"] = max(at, row["starts_at"])
        row["end_reason"] = reason
        self.current_placement = None
        self.gen.occupancy[row["facility"]] -= 1
        self.event(
            "placement", "ended", actor, at, data={"placement": pk, "facility": row["facility"]}
        )
        for dpk, d in list(self.deadlines.items()):
            if d["status"] == "open" and d["placement"] == pk:
                self._close(dpk, at, actor, "met")

    def note(self, author: int, at: dt.datetime) -> None:
        pk = self.gen.ids.take(Note)
        self.notes.append((pk, author, self.gen.rng.choice(NOTE_TEXTS), at))
        self.event("note", "note_added", author, at, data={"note": pk})

    def record(
        self, action: str, actor: int, at: dt.datetime, reason: str = "", **data: Any
    ) -> None:
        self.event("record", action, actor, at, reason=reason, data=data)


# ------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    cases: int = 0
    events: int = 0
    deadlines: int = 0
    placements: int = 0
    notes: int = 0
    users: int = 0
    long_case_id: int | None = None
    first_case_id: int | None = None
    statuses: Counter = dataclasses.field(default_factory=Counter)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)


STATUS_WEIGHTS = (
    ("submitted", 0.07),
    ("examination", 0.33),
    ("detention", 0.07),
    ("decided", 0.13),
    ("appealed", 0.10),
    ("closed", 0.20),
    ("withdrawn", 0.10),
)


class Generator:
    def __init__(self, count: int, seed: int, progress: Progress | None = None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count = count
        self.rng = random.Random(seed)
        self.progress = progress or (lambda message: None)
        self.now = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
        self.today = _local_day(self.now)
        self.ids = _Ids()
        self.report = Report()
        self.occupancy: Counter = Counter()
        self._due_cache: dict[tuple[str, dt.date], tuple[dt.date, dt.datetime]] = {}
        self._search_keys: dict[tuple[str, str, str, str], str] = {}
        rules = list(DeadlineRule.objects.filter(is_active=True))
        self.rules_by_start: dict[str, list[DeadlineRule]] = {}
        for rule in rules:
            self.rules_by_start.setdefault(rule.start_event, []).append(rule)

    # -- rules ------------------------------------------------------------------------------

    def rules_for(self, start_event: str, submitted_on: dt.date) -> list[DeadlineRule]:
        return [r for r in self.rules_by_start.get(start_event, []) if r.applies_to(submitted_on)]

    def due(self, rule: DeadlineRule, start: dt.datetime) -> tuple[dt.date, dt.datetime]:
        """`rule_due`, cached per rule and day for limits counted in days (their due date
        depends only on the start's date in Vilnius)."""
        if rule.unit == DeadlineRule.TimeUnit.HOURS:
            due_on, due_at = rule_due(rule, start)
            return due_on, due_at.astimezone(dt.UTC)
        key = (rule.code, _local_day(start))
        hit = self._due_cache.get(key)
        if hit is None:
            due_on, due_at = rule_due(rule, start)
            hit = self._due_cache[key] = (due_on, due_at.astimezone(dt.UTC))
        return hit

    # -- reference rows (small: through the ORM) ----------------------------------------------

    def _reference_rows(self) -> None:
        self.units: list[tuple[Unit, float]] = []
        for name, share in UNITS:
            unit, _created = Unit.objects.get_or_create(name=name)
            self.units.append((unit, share))
        self.facilities: dict[str, list[tuple[int, float]]] = {"detention": [], "reception": []}
        self.facility_rows: dict[int, Facility] = {}
        for code, name, kind, operator, address, share in FACILITIES:
            facility = Facility.objects.filter(code=code).first()
            if facility is None:
                facility = Facility.objects.create(
                    code=code,
                    name=name,
                    kind=kind,
                    operator=operator,
                    address=address,
                    capacity=10,
                )
            self.facility_rows[facility.pk] = facility
            if kind in ("detention", "mixed"):
                self.facilities["detention"].append((facility.pk, share))
            if kind in ("reception", "mixed"):
                self.facilities["reception"].append((facility.pk, share))
        for facility_id, regime_count in (
            Placement.objects.current().values_list("facility_id").annotate(n=models.Count("pk"))
        ):
            self.occupancy[facility_id] = regime_count
        groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL)}
        self.caseworkers: dict[int, list[int]] = {}
        self.deciders: dict[int, list[int]] = {}
        for unit, share in self.units:
            expected = self.count * share
            n_workers = max(2, min(400, round(expected / 250)))
            n_deciders = max(1, n_workers // 6)
            self.caseworkers[unit.pk] = self._staff(unit, "cw", n_workers, groups[roles.CASEWORKER])
            self.deciders[unit.pk] = self._staff(
                unit, "dm", n_deciders, groups[roles.DECISION_MAKER]
            )

    def _staff(self, unit: Unit, kind: str, wanted: int, group: Group) -> list[int]:
        """The unit's synthetic staff of one role: existing ones, plus new ones up to
        `wanted` (usernames `syn-u<unit>-<kind>-<n>`, unusable passwords)."""
        prefix = f"syn-u{unit.pk}-{kind}-"
        existing = list(
            User.objects.filter(username__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        new = []
        for n in range(len(existing) + 1, wanted + 1):
            username = f"{prefix}{n:03d}"
            new.append(
                User(
                    username=username,
                    password="!synthetic",  # noqa: S106 - unusable: no one signs in as a synthetic user
                    first_name=self.rng.choice(STAFF_GIVEN),
                    last_name=self.rng.choice(STAFF_FAMILY),
                    email=f"{username}@synthetic.invalid",
                    unit=unit,
                )
            )
        if new:
            User.objects.bulk_create(new)
            created = list(User.objects.filter(username__in=[u.username for u in new]))
            group.user_set.add(*created)
            self.report.users += len(created)
            existing += [u.pk for u in created]
        return existing

    def _fit_capacities(self) -> None:
        """Capacities that hold the generated occupancy with some room to spare."""
        for pk, facility in self.facility_rows.items():
            needed = self.occupancy.get(pk, 0)
            wanted = max(10, int(needed * 1.15) + 5)
            if facility.capacity < wanted:
                Facility.objects.filter(pk=pk).update(capacity=min(wanted, 100_000))

    # -- tables -------------------------------------------------------------------------------

    def _tables(self) -> None:
        self.t_applicant = Table(
            Applicant,
            [
                "id",
                "family_name",
                "given_names",
                "name_original",
                "aliases",
                "date_of_birth",
                "sex",
                "nationality",
                "languages",
                "military_status",
                "military_rank",
                "military_unit",
                "military_background",
                "search_key",
                "created_at",
            ],
        )
        self.t_application = Table(
            Application,
            [
                "id",
                "reference",
                "applicant_id",
                "status",
                "status_changed_at",
                "procedure",
                "apprehended_on",
                "apprehension_place",
                "entered_on",
                "submitted_on",
                "lodged_on",
                "submission_place",
                "submission_authority",
                "grounds",
                "claim_summary",
                "unit_id",
                "assigned_to_id",
                "interviewed_on",
                "interview_waiver_reason",
                "decision_outcome",
                "decided_on",
                "served_on",
                "appeal_court",
                "appeal_lodged_on",
                "final_judgment_on",
                "withdrawal",
                "next_deadline_at",
                "nationality",
                "created_at",
                "updated_at",
            ],
        )
        self.t_placement = Table(
            Placement,
            [
                "id",
                "application_id",
                "facility_id",
                "regime",
                "legal_basis",
                "ordering_authority",
                "order_reference",
                "starts_at",
                "ends_at",
                "end_reason",
                "review_due",
                "court_name",
                "court_case_number",
                "court_order_on",
                "court_order_until",
            ],
        )
        self.t_deadline = Table(
            Deadline,
            [
                "id",
                "application_id",
                "rule",
                "placement_id",
                "starts_at",
                "due_on",
                "due_at",
                "status",
                "closed_at",
                "waive_reason",
                "legal_reference",
            ],
        )
        self.t_event = Table(
            CaseEvent,
            [
                "id",
                "application_id",
                "kind",
                "action",
                "actor_id",
                "at",
                "from_status",
                "to_status",
                "reason",
                "reason_digest",
                "data",
                "prev_hash",
                "hash",
                "redacted_by_id",
            ],
        )
        self.t_note = Table(Note, ["id", "application_id", "author_id", "text", "created_at"])
        self.tables = [
            self.t_applicant,
            self.t_application,
            self.t_placement,
            self.t_deadline,
            self.t_event,
            self.t_note,
        ]

    def _next_reference_number(self) -> int:
        last = (
            Application.objects.filter(reference__startswith=f"{REFERENCE_PREFIX}-")
            .order_by("-reference")
            .values_list("reference", flat=True)
            .first()
        )
        if not last:
            return 1
        tail = last.rsplit("-", 1)[-1]
        return int(tail) + 1 if tail.isdigit() else 1

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.monotonic()
        self._reference_rows()
        self._tables()
        for model in (Applicant, Application, Placement, Deadline, CaseEvent, Note):
            self.ids.start(model)
        self.report.first_case_id = self.ids.next[Application._meta.db_table]
        self.ref_number = self._next_reference_number()
        self.report.seconds["reference rows"] = time.monotonic() - started
        writer = CopyWriter(connection.connection)
        step = max(1, self.count // 20)
        try:
            for n in range(self.count):
                # The long case first, then one case of each status, then chance decides.
                forced = STATUS_WEIGHTS[n - 1][0] if 1 <= n <= len(STATUS_WEIGHTS) else None
                self._case(long=n == 0, forced=forced)
                if n % 2000 == 1999:
                    for table in self.tables:
                        writer.flush(table)
                if (n + 1) % step == 0 or n + 1 == self.count:
                    elapsed = time.monotonic() - started
                    self.progress(
                        f"  {n + 1:>9,} of {self.count:,} cases  "
                        f"({self.report.events:,} events, {elapsed:.0f} s)"
                    )
            for table in self.tables:
                writer.flush(table, force=True)
        finally:
            writer.close()
        self._fit_capacities()
        self.report.seconds["simulate and copy"] = time.monotonic() - started
        return self.report

    # -- people ---------------------------------------------------------------------------------

    def _applicant(self) -> tuple[int, str]:
        rng = self.rng
        index = rng.choices(_NATIONALITY_INDEXES, _NATIONALITY_WEIGHTS)[0]
        nationality, _weight, cyrillic, languages = NATIONALITIES[index]
        sex = "female" if rng.random() < 0.3 else "male"
        aliases: list[str] = []
        original = ""
        if cyrillic:
            given_cyr = rng.choice(CYR_FEMALE if sex == "female" else CYR_MALE)
            family_cyr = rng.choice(CYR_FAMILY)
            if sex == "female":
                family_cyr = _feminine(family_cyr)
            original = f"{given_cyr} {family_cyr}"
            given = romanise(given_cyr, _ICAO)
            family = romanise(family_cyr, _ICAO)
            for table in (_BGN, _GERMAN):
                variant = f"{romanise(given_cyr, table)} {romanise(family_cyr, table)}"
                if variant != f"{given} {family}" and variant not in aliases and rng.random() < 0.6:
                    aliases.append(variant)
        else:
            male, female, families = LATIN_NAMES.get(nationality or "AF", LATIN_NAMES["AF"])
            given = rng.choice(female if sex == "female" else male)
            family = rng.choice(families)
            if rng.random() < 0.15:
                aliases.append(
                    f"{given} {family.replace('-', ' ')}".replace("Mohammad", "Muhammad")
                )
        aliases_text = "\n".join(aliases)
        key = (given, family, original, aliases_text)
        search = self._search_keys.get(key)
        if search is None:
            person = Applicant(
                family_name=family, given_names=given, name_original=original, aliases=aliases_text
            )
            person.refresh_search_key()
            search = self._search_keys[key] = person.search_key
        age_days = rng.randint(17 * 365, 62 * 365)
        born = self.today - dt.timedelta(days=age_days)
        military = ("", "", "")
        if nationality in ("RU", "BY") and sex == "male" and rng.random() < 0.2:
            military = rng.choice(
                (
                    ("officer", "Captain", "Motor rifle brigade"),
                    ("contract", "Sergeant", "Airborne regiment"),
                    ("conscript", "Private", ""),
                    ("reservist", "Junior sergeant", ""),
                )
            )
        pk = self.ids.take(Applicant)
        self.t_applicant.add(
            (
                str(pk),
                esc(family),
                esc(given),
                esc(original),
                esc(aliases_text),
                born.isoformat(),
                sex,
                nationality,
                esc(languages),
                military[0],
                esc(military[1]),
                esc(military[2]),
                "",
                esc(search),
                self.now.isoformat(),
            )
        )
        return pk, nationality

    def _pick_facility(self, kind: str) -> int:
        choices = self.facilities[kind]
        facility = self.rng.choices([c[0] for c in choices], [c[1] for c in choices])[0]
        self.occupancy[facility] += 1
        return facility

    # -- a case -----------------------------------------------------------------------------------

    def _case(self, *, long: bool = False, forced: str | None = None) -> None:
        rng = self.rng
        day = dt.timedelta(days=1)
        units = self.units
        unit = (
            units[0][0] if long else rng.choices([u for u, _s in units], [s for _u, s in units])[0]
        )
        workers = self.caseworkers[unit.pk]
        deciders = self.deciders[unit.pk]
        target = (
            "examination"
            if long
            else forced
            or rng.choices([s for s, _w in STATUS_WEIGHTS], [w for _s, w in STATUS_WEIGHTS])[0]
        )
        via = ""
        if target == "withdrawn":
            via = rng.choices(["submitted", "examination", "detention"], [3, 5, 2])[0]
        detained_now = target == "detention" or via == "detention"
        past_detention = (
            not detained_now
            and target in ("examination", "decided", "appealed", "closed")
            and rng.random() < 0.12
            and not forced
        )
        # Durations (days) of the steps this case goes through, then its submission date.
        lodge = rng.choices([0, 1, 2, 3, 4, 6, 9], [30, 25, 15, 12, 8, 6, 4])[0]
        start_exam = rng.randint(1, 20)
        detain_after = rng.randint(0, 10)
        release_after = rng.randint(20, 200)
        decide_after = rng.randint(45, 230)
        serve_after = rng.choice([0, 0, 1, 2, 3, 5, 8])
        appeal_after = rng.choices([3, 7, 10, 13, 14, 18], [10, 25, 25, 20, 10, 3])[0]
        judgment_after = rng.randint(60, 300)
        if target == "submitted":
            age = rng.choices([rng.randint(0, 7), rng.randint(8, 40)], [85, 15])[0]
        elif target == "examination" and not past_detention:
            age = start_exam + rng.randint(0, 240)
        elif target == "examination":
            age = start_exam + detain_after + release_after + rng.randint(0, 60)
        elif target == "detention":
            age = detain_after + 2 + rng.randint(0, 160)
        elif target == "withdrawn":
            age = rng.randint(10, 1000)
        else:
            age = decide_after + rng.randint(0, 30)
            if past_detention:
                age = max(age, start_exam + detain_after + release_after + 15)
            if target in ("appealed", "closed"):
                age += serve_after + appeal_after + rng.randint(0, 200)
            if target == "closed":
                age += judgment_after + rng.randint(0, 700) + (90 if forced else 0)
        submitted_on = self.today - dt.timedelta(days=age)
        app_id = self.ids.take(Application)
        story = _Story(self, app_id, submitted_on)
        applicant_id, nationality = self._applicant()

        def moment(on: dt.date, earliest: dt.datetime | None = None) -> dt.datetime:
            """A working-hours moment on day `on`, never before `earliest` nor after now."""
            at = dt.datetime.combine(on, dt.time(8, 0), tzinfo=VILNIUS).astimezone(dt.UTC)
            at += dt.timedelta(
                seconds=rng.randint(0, 9 * 3600), microseconds=rng.randint(0, 999_999)
            )
            if earliest is not None and at <= earliest:
                at = earliest + dt.timedelta(minutes=rng.randint(1, 90))
            return min(at, self.now - dt.timedelta(seconds=1))

        actor = rng.choice(workers)
        procedure = rng.choices(["regular", "accelerated", "border", "dublin"], [70, 12, 12, 6])[0]
        at_border = procedure == "border" or detained_now or past_detention
        apprehended_on = submitted_on - dt.timedelta(days=rng.randint(0, 2)) if at_border else None
        entered_on = submitted_on - dt.timedelta(days=rng.randint(0, 30))
        lodged_on = submitted_on + dt.timedelta(days=lodge)
        if lodged_on > self.today or (target == "submitted" and rng.random() < 0.25):
            lodged_on = None
        f = story.fields
        f.update(
            apprehended_on=apprehended_on,
            entered_on=entered_on,
            lodged_on=lodged_on,
            procedure=procedure,
            unit=unit.pk,
        )

        t = moment(submitted_on)
        story.event(
            "transition",
            "submit",
            actor,
            t,
            to_status="submitted",
            reason="Application registered.",
            data={"applicant": applicant_id, "submitted_on": submitted_on.isoformat()},
        )
        story.status_changed_at = t
        story.open_deadlines("submitted", t, actor)
        if lodged_on:
            story.meet("lodged", max(_noon(lodged_on), t), actor)
        if rng.random() < 0.85 and not (detained_now and detain_after == 0):
            facility = self._pick_facility("reception")
            regime = "restricted" if rng.random() < 0.06 else "accommodation"
            t = moment(submitted_on + dt.timedelta(days=rng.randint(0, 2)), t)
            story.place(
                facility, regime, t, actor, legal_basis="Accommodation at a reception centre"
            )

        assignee: int | None = None
        day_cursor = submitted_on

        def detain(on: dt.date) -> None:
            nonlocal t
            t = moment(max(on, _local_day(t)), t)
            story.transition("detain", actor, t, "detention")
            if story.current_placement is not None:
                story.end_placement(t, actor, "Moved to detention.")
            facility = self._pick_facility("detention")
            placement = story.place(
                facility,
                "detention",
                t,
                actor,
                legal_basis="Law on the Legal Status of Aliens Art. 113(4)",
                ordering_authority="State Border Guard Service",
                order_reference=f"SYN-DET-{app_id}",
            )
            story.open_deadlines("detained", t, actor, placement=placement)
            entry_day = entered_on or apprehended_on or submitted_on
            if not any(
                d["status"] == "open" and d["rule"] == "restriction-cap"
                for d in story.deadlines.values()
            ):
                story.open_deadlines("entered", _noon(entry_day), actor, placement=placement, at=t)
            # The court order, mostly within the 48 hours.
            hours = rng.choices([20, 30, 44, 60], [30, 40, 22, 8])[0]
            order_at = t + dt.timedelta(hours=hours, minutes=rng.randint(0, 59))
            if order_at < self.now:
                order_on = _local_day(order_at)
                until = order_on + dt.timedelta(days=rng.choice([30, 60, 90, 180]))
                row = story.placements[placement]
                row.update(
                    court_name=rng.choice(DETENTION_COURTS),
                    court_case_number=f"SYN-eI2-{app_id}/{order_on.year}",
                    court_order_on=order_on,
                    court_order_until=until,
                    review_due=until,
                )
                story.record(
                    "court_order",
                    actor,
                    order_at,
                    placement=placement,
                    order_on=order_on.isoformat(),
                    until=until.isoformat(),
                )
                story.meet("court_order", order_at, actor)
                story.open_deadlines(
                    "court_order_until", _noon(until), actor, placement=placement, at=order_at
                )
                t = order_at

        if detained_now and via in ("", "detention") and rng.random() < 0.4:
            detain(submitted_on + dt.timedelta(days=detain_after))  # detained before examination
        elif target != "submitted" and via != "submitted":
            day_cursor = submitted_on + dt.timedelta(days=start_exam)
            t = moment(min(day_cursor, self.today), t)
            assignee = rng.choice(workers) if rng.random() < 0.95 else None
            story.transition("start_examination", actor, t, "examination", assignee=assignee)
            if detained_now:
                detain(day_cursor + dt.timedelta(days=detain_after))
            elif past_detention:
                detain(day_cursor + dt.timedelta(days=detain_after))
                t = moment(_local_day(t) + dt.timedelta(days=release_after), t)
                story.transition("release", actor, t, "examination")
                story.end_placement(t, actor, "Court did not extend the detention.")
                if rng.random() < 0.8:
                    story.place(
                        self._pick_facility("reception"),
                        "accommodation",
                        t,
                        actor,
                        legal_basis="Accommodation at a reception centre",
                    )
            if assignee is not None and rng.random() < 0.1:
                t = moment(_local_day(t) + dt.timedelta(days=rng.randint(1, 30)), t)
                assignee = rng.choice(workers)
                story.record("assigned", rng.choice(deciders), t, assignee=assignee)

        f["assigned_to"] = assignee
        decided = target in ("decided", "appealed", "closed")
        if decided or (target in ("examination", "detention") and rng.random() < 0.4):
            interview_on = min(_local_day(t) + dt.timedelta(days=rng.randint(5, 40)), self.today)
            t = moment(interview_on, t)
            if rng.random() < 0.05:
                waiver = "The applicant is unfit for interview (medical certificate)."
                f["interview_waiver_reason"] = waiver
                story.record("interview_recorded", actor, t, reason=waiver, interviewed_on=None)
            else:
                f["interviewed_on"] = _local_day(t)
                story.record(
                    "interview_recorded", actor, t, interviewed_on=_local_day(t).isoformat()
                )

        if decided:
            decided_on = max(submitted_on + dt.timedelta(days=decide_after), _local_day(t))
            decided_on = min(decided_on, self.today)
            outcome = rng.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
            if target in ("appealed", "closed") and outcome != "inadmissible":
                outcome = "rejected"
            served_on = decided_on + dt.timedelta(days=serve_after)
            serve_now = served_on <= self.today and (target != "decided" or rng.random() < 0.85)
            t = moment(decided_on, t)
            story.transition(
                "decide",
                rng.choice(deciders),
                t,
                "decided",
                outcome=outcome,
                decided_on=decided_on.isoformat(),
                served_on=served_on.isoformat() if serve_now and serve_after == 0 else None,
            )
            decider = story.events[-1].actor_id
            f.update(decision_outcome=outcome, decided_on=decided_on)
            # As `deadlines.day_moment`: the recorded moment on the decision's day, else noon.
            story.meet("decided", t if _local_day(t) == decided_on else _noon(decided_on), decider)
            if serve_now:
                f["served_on"] = served_on
                if serve_after:
                    t = moment(served_on, t)
                    story.record("served", actor, t, served_on=served_on.isoformat())
                story.open_deadlines(
                    "served", _noon(served_on), decider if not serve_after else actor
                )
            if target in ("appealed", "closed") and f.get("served_on"):
                via_appeal = target == "appealed" or rng.random() < 0.6
                if via_appeal:
                    lodged = served_on + dt.timedelta(days=appeal_after)
                    lodged = min(lodged, self.today)
                    t = moment(lodged, t)
                    court = rng.choice(COURTS)
                    story.transition("appeal", actor, t, "appealed", lodged_on=lodged.isoformat())
                    f.update(appeal_court=court, appeal_lodged_on=lodged)
                    story.meet("appeal_lodged", _noon(lodged), actor)
                    judged = target == "closed" or rng.random() < 0.3
                    judgment_on = lodged + dt.timedelta(days=judgment_after)
                    if judged and judgment_on < self.today:
                        t = moment(judgment_on, t)
                        f["final_judgment_on"] = judgment_on
                        story.record("judgment", actor, t, judgment_on=judgment_on.isoformat())
                if target == "closed":
                    window = [d for d in story.deadlines.values() if d["rule"] == "appeal-window"]
                    if f.get("final_judgment_on") or (window and window[-1]["due_at"] < self.now):
                        close_on = _local_day(t) + dt.timedelta(days=rng.randint(1, 30))
                        if window:
                            close_on = max(close_on, _local_day(window[-1]["due_at"]) + day)
                        t = moment(min(close_on, self.today), t)
                        story.transition("close", rng.choice(deciders), t, "closed")
                        story.end_placement(t, story.events[-1].actor_id, "Case closed.")
                        story.cancel_open(t, story.events[-1].actor_id)
            if target == "closed" and story.status != "closed":
                # Could not close honestly (window still open): leave it decided.
                pass

        if target == "withdrawn":
            on = max(_local_day(t) + dt.timedelta(days=rng.randint(3, 120)), _local_day(t))
            t = moment(min(on, self.today), t)
            kind = rng.choice(["explicit", "implicit"])
            story.transition("withdraw", actor, t, "withdrawn", kind=kind)
            f["withdrawal"] = kind
            story.end_placement(t, actor, "Application withdrawn.")
            story.cancel_open(t, actor)

        # Notes, spread over the case's life, up to the wanted number of events.
        last = t
        if long:
            wanted = LONG_CASE_EVENTS
        else:
            wanted = len(story.events) + min(int(rng.expovariate(1 / 3)), 25)
            wanted = max(MIN_EVENTS, min(MAX_EVENTS, wanted))
        first = story.events[0].at
        span = max((self.now - first).total_seconds() - 60, 1)
        if story.status in ("closed", "withdrawn"):
            span = max((last - first).total_seconds(), 1)
        authors = workers[:]
        while len(story.events) < wanted:
            offset = rng.random() * span
            story.note(rng.choice(authors), first + dt.timedelta(seconds=offset))
        self._write(story, applicant_id, unit.pk, nationality)

    # -- writing one case -------------------------------------------------------------------------

    def _write(self, story: _Story, applicant_id: int, unit_id: int, nationality: str) -> None:
        f = story.fields
        rng = self.rng
        app_id = story.id
        report = self.report
        report.cases += 1
        report.statuses[story.status] += 1
        if story.events and len(story.events) == LONG_CASE_EVENTS and report.long_case_id is None:
            report.long_case_id = app_id

        open_due = [d["due_at"] for d in story.deadlines.values() if d["status"] == "open"]
        grounds = ["military_service"] if rng.random() < 0.15 else []
        grounds += rng.sample(
            [
                "political_opinion",
                "religion",
                "nationality",
                "social_group",
                "race",
                "serious_harm",
            ],
            rng.choice([1, 1, 2]),
        )
        reference = f"{REFERENCE_PREFIX}-{story.submitted_on.year}-{self.ref_number:07d}"
        self.ref_number += 1
        authority = (
            "border_guard"
            if f["apprehended_on"] or f["procedure"] == "border"
            else "migration_department"
        )
        created = story.events[0].at
        self.t_application.add(
            (
                str(app_id),
                reference,
                str(applicant_id),
                story.status,
                story.status_changed_at.isoformat(),
                f["procedure"],
                esc(f["apprehended_on"]),
                "Lithuanian–Belarusian border" if f["apprehended_on"] else "",
                esc(f["entered_on"]),
                story.submitted_on.isoformat(),
                esc(f["lodged_on"]),
                "Vilnius" if authority == "migration_department" else "Border checkpoint",
                authority,
                esc(json.dumps(grounds)),
                SYNTHETIC_MARK,
                str(unit_id),
                esc(f.get("assigned_to")),
                esc(f.get("interviewed_on")),
                esc(f.get("interview_waiver_reason", "")),
                f.get("decision_outcome", ""),
                esc(f.get("decided_on")),
                esc(f.get("served_on")),
                esc(f.get("appeal_court", "")),
                esc(f.get("appeal_lodged_on")),
                esc(f.get("final_judgment_on")),
                f.get("withdrawal", ""),
                esc(min(open_due) if open_due else None),
                nationality,
                created.isoformat(),
                story.events[-1].at.isoformat(),
            )
        )

        for pk, p in story.placements.items():
            self.t_placement.add(
                (
                    str(pk),
                    str(app_id),
                    str(p["facility"]),
                    p["regime"],
                    esc(p.get("legal_basis", "")),
                    esc(p.get("ordering_authority", "")),
                    esc(p.get("order_reference", "")),
                    p["starts_at"].isoformat(),
                    esc(p["ends_at"]),
                    esc(p["end_reason"]),
                    esc(p.get("review_due")),
                    esc(p.get("court_name", "")),
                    esc(p.get("court_case_number", "")),
                    esc(p.get("court_order_on")),
                    esc(p.get("court_order_until")),
                )
            )
        report.placements += len(story.placements)

        for pk, d in story.deadlines.items():
            self.t_deadline.add(
                (
                    str(pk),
                    str(app_id),
                    d["rule"],
                    esc(d["placement"]),
                    d["starts_at"].isoformat(),
                    d["due_on"].isoformat(),
                    d["due_at"].isoformat(),
                    d["status"],
                    esc(d["closed_at"]),
                    "",
                    esc(d["legal"]),
                )
            )
        report.deadlines += len(story.deadlines)

        for pk, author, text, at in story.notes:
            self.t_note.add((str(pk), str(app_id), str(author), esc(text), at.isoformat()))
        report.notes += len(story.notes)

        # The chain: events in time order, ids in that order, each linked to the one before.
        story.events.sort(key=lambda e: (e.at, e.seq))
        prev = ""
        for event in story.events:
            event.prev_hash = prev
            event.hash = event_hash(event)
            prev = event.hash
            self.t_event.add(
                (
                    str(self.ids.take(CaseEvent)),
                    str(app_id),
                    event.kind,
                    event.action,
                    esc(event.actor_id),
                    event.at.isoformat(),
                    event.from_status,
                    event.to_status,
                    esc(event.reason),
                    event.reason_digest,
                    esc(json.dumps(event.data, separators=(",", ":"), ensure_ascii=False)),
                    event.prev_hash,
                    event.hash,
                    NULL,
                )
            )
        report.events += len(story.events)


# ------------------------------------------------------------------------------------------
# Schema handling around a standalone load
# ------------------------------------------------------------------------------------------

LOADED_MODELS = (Applicant, Application, Placement, Deadline, CaseEvent, Note)
# Tables whose triggers are off during a standalone load (field history; the stored counts,
# recounted after the load).
TRIGGERS_OFF_TABLES = (
    Applicant._meta.db_table,
    Application._meta.db_table,
    Placement._meta.db_table,
)


def _foreign_keys(cursor, tables: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, constraint name, definition) of the foreign keys on `tables`."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) "
        "ORDER BY 1, 2",
        [list(tables)],
    )
    return list(cursor.fetchall())


def _set_sequences(cursor) -> None:
    for model in (*LOADED_MODELS, User, Unit, Facility):
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


def generate(count: int, *, seed: int = 0, progress: Progress | None = None) -> Report:
    """Generate `count` synthetic cases into the default (PostgreSQL) database.

    All or nothing: one transaction. Outside a transaction it also handles the foreign keys,
    triggers and statistics (see the module's docstring); inside one it only loads rows.
    """
    if connection.vendor != "postgresql":
        raise ValueError("synthetic cases are loaded with PostgreSQL's COPY: use PostgreSQL")
    say = progress or (lambda message: None)
    standalone = not connection.in_atomic_block
    tables = [m._meta.db_table for m in LOADED_MODELS]
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            foreign_keys = _foreign_keys(cursor, tables) if standalone else []
            if standalone:
                for table, name, _definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for table in TRIGGERS_OFF_TABLES:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        generator = Generator(count, seed, say)
        report = generator.run()
        with connection.cursor() as cursor:
            _set_sequences(cursor)
            cursor.execute(RECOUNT_SQL)  # the counting triggers were off during the load
            if standalone:
                mark = time.monotonic()
                for table in TRIGGERS_OFF_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                say("Checking foreign keys ...")
                for table, name, definition in foreign_keys:
                    cursor.execute(
                        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID'
                    )
                for table, name, _definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
                report.seconds["foreign keys"] = time.monotonic() - mark
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if standalone:
        mark = time.monotonic()
        say("VACUUM ANALYZE ...")
        with connection.cursor() as cursor:
            for table in (*tables, User._meta.db_table, Facility._meta.db_table):
                cursor.execute(f"VACUUM ANALYZE {table}")
        report.seconds["vacuum analyze"] = time.monotonic() - mark
    report.seconds["total"] = time.monotonic() - started
    return report
