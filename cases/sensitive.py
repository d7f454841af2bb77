"""Sensitive facts: hidden on the case page, in lists, exports and the API until revealed.

Which facts are hidden is data (`SensitiveField`, edited by administrators in the admin,
seeded with health, sexual orientation and gender identity, trafficking or torture history
and details of vulnerability). A reader of the case reveals them with one click, a POST that
writes an access event naming the facts revealed (never their values) and lets the next view
of the case page show them once; reloading the page hides them again, so that every page
that showed them follows a recorded reveal. Lists, exports and the API show a hidden fact as
hidden, always.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import DEFAULT_SENSITIVE_FACTS, Application, SensitiveField, hidden_facts

__all__ = [
    "HIDDEN_TEXT",
    "case_facts",
    "ensure_default_sensitive_fields",
    "hidden_facts",
    "mark_revealed",
    "shown",
    "take_revealed",
]

# What lists and exports write in place of a hidden fact.
HIDDEN_TEXT = _("[hidden]")
REVEAL_SESSION_KEY = "haven_revealed"


def ensure_default_sensitive_fields(model=None) -> None:
    """Seed the default sensitive facts (idempotent: a fact an administrator already listed,
    or chose to show, is left as it is). Called by the data migration and by the tests."""
    model = model or SensitiveField
    for fact in DEFAULT_SENSITIVE_FACTS:
        model.objects.get_or_create(fact=str(fact))


def _owner(case: Application, fact: str):
    model, _sep, _name = fact.partition(".")
    return case.applicant if model == "applicant" else case


def shown(value: Any, fact: str, hidden: frozenset[str]) -> Any:
    """`value`, or HIDDEN_TEXT when the fact is hidden and there is something to hide."""
    if fact in hidden and value not in (None, ""):
        return str(HIDDEN_TEXT)
    return value


def case_facts(case: Application, hidden: frozenset[str], *, revealed: bool) -> dict[str, Any]:
    """Every fact that can be sensitive, by field name, as the case page shows it:
    `value` ("" while hidden), `hidden` (there is a value the page does not show) and
    `sensitive` (hidden until revealed, whether or not this case has a value)."""
    facts: dict[str, Any] = {}
    for fact in SensitiveField.Fact.values:
        name = fact.partition(".")[2]
        value = getattr(_owner(case, fact), name) or ""
        hide = fact in hidden and bool(value) and not revealed
        facts[name] = {"value": "" if hide else value, "hidden": hide, "sensitive": fact in hidden}
    return facts


def revealable(case: Application, hidden: frozenset[str]) -> list[str]:
    """The hidden facts that hold something on this case (what a reveal shows)."""
    return sorted(f for f in hidden if getattr(_owner(case, f), f.partition(".")[2], ""))


def mark_revealed(session, case_pk: int) -> None:
    """Let the next view of the case page in this session show its hidden facts."""
    revealed = [pk for pk in session.get(REVEAL_SESSION_KEY, []) if pk != case_pk]
    session[REVEAL_SESSION_KEY] = [*revealed[-19:], case_pk]


def take_revealed(session, case_pk: int) -> bool:
    """Whether a reveal of this case waits for this view; it is used up."""
    revealed = session.get(REVEAL_SESSION_KEY) or []
    if case_pk not in revealed:
        return False
    session[REVEAL_SESSION_KEY] = [pk for pk in revealed if pk != case_pk]
    return True
