"""Plausibility of dates typed by people, shared by the forms (the page's and the API's
intake) and the workflow, so that every way in refuses the same dates with the same words."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# Nobody alive was born before it, and no asylum application was made before it: an earlier
# date is a slip of the keyboard (year 104 for 2004, say).
EARLIEST_DATE = dt.date(1900, 1, 1)


def validate_past_date(value: dt.date | None) -> None:
    """A date of something that has already happened (a birth, the making or lodging of an
    application, an apprehension, an entry, a decision): from 1900 to today, Vilnius time."""
    if value is None:
        return
    if value < EARLIEST_DATE:
        raise ValidationError(
            _("A date before 1900 cannot be right here: check the year."), code="too_early"
        )
    if value > timezone.localdate():
        raise ValidationError(_("This date is in the future."), code="future")


def day_problem(day, *, missing: str, since: dt.date | None = None, early: str = "") -> str | None:
    """What is wrong with a day given for a step of a case, or None: not given as a date
    (`missing`; a datetime is not a day), before `since` (`early`, which may name that day as
    `%(date)s`), or in the future (Vilnius time)."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        return missing
    if since is not None and day < since:
        return early % {"date": since.isoformat()}
    if day > timezone.localdate():
        return _("This date is in the future.")
    return None


# A language as people write it ("Russian", "Dari", "kurdų (sorani)", "арабский"): letters of
# any script, with spaces, hyphens, apostrophes, commas, slashes and brackets between them.
LANGUAGE_LIMIT = 100
_LANGUAGE_PUNCTUATION = frozenset(" -'’,/()")


def clean_language(value, *, required: bool = True) -> str:
    """A language named in free text (there is no closed list of the languages applicants
    speak), trimmed; refused when empty (if required), too long, or not made of letters."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        if required:
            raise ValidationError(_("Name the language."), code="required")
        return ""
    if len(text) > LANGUAGE_LIMIT:
        raise ValidationError(_("Name the language in up to 100 characters."), code="too_long")
    if not any(c.isalpha() for c in text) or any(
        not c.isalpha() and c not in _LANGUAGE_PUNCTUATION for c in text
    ):
        raise ValidationError(
            _("Name the language in letters (for example “Russian” or “Dari”)."),
            code="invalid",
        )
    return text
