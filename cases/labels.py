"""How pages name stored codes, people and steps.

The views and the timeline builder (`cases.timeline`) both write a status, a person or a
transition; they take the words from here, so that every page (and, later, every API answer)
says them the same way, in the active language.
"""

from __future__ import annotations

import functools

from django.db import models
from django.utils.translation import get_language, gettext

from accounts.models import User

from .models import Application


def label(choices: type[models.Choices], value: str) -> str:
    """The translated label of a stored code, as `get_FOO_display()` gives it; that method
    rebuilds the field's whole choices dict on every call (hundreds per list page)."""
    return _labels(choices, get_language()).get(value, value)


@functools.cache
def _labels(choices: type[models.Choices], language: str | None) -> dict[str, str]:
    return {value: str(text) for value, text in choices.choices}


def data_text(text: str) -> str:
    """Stored text that Haven's defaults wrote (a deadline rule's name, its legal source), in
    the reader's language; a text an administrator wrote is shown as it was written."""
    return gettext(text) if text else text


def person(user: User | None) -> str:
    """A person as pages name them: the full name, else the username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


def transition_labels() -> dict[str, str]:
    """Each transition's label by name, as the graph on `Application` declares it."""
    labels = {}
    for t in Application._meta.get_field("status").get_all_transitions(Application):
        labels[t.name] = str(t.custom.get("label", t.name))
    return labels
