"""Name folding for search across scripts and romanisations.

`search_key("Королёв")`, `search_key("Korolyov")` and `search_key("korolev")` are equal, so a
name search is one lookup on an indexed column. The same function folds the stored key and
the query, which is what makes them comparable.
"""

from __future__ import annotations

import re

from anyascii import anyascii

# Romanisation variants collapsed to one spelling, longest first.
_VARIANTS = (
    ("shch", "sc"),
    ("sch", "s"),
    ("yo", "e"),
    ("jo", "e"),
    ("yu", "u"),
    ("ju", "u"),
    ("ya", "a"),
    ("ja", "a"),
    ("ye", "e"),
    ("je", "e"),
    ("kh", "h"),
    ("zh", "z"),
    ("ts", "c"),
    ("tz", "c"),
    ("ch", "c"),
    ("sh", "s"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DOUBLED = re.compile(r"([a-z])\1+")


def fold_word(text: str) -> str:
    """Fold one word or phrase to its search form: ASCII, lower case, variants collapsed."""
    ascii_text = anyascii(text or "").lower()
    ascii_text = _NON_ALNUM.sub(" ", ascii_text)
    for old, new in _VARIANTS:
        ascii_text = ascii_text.replace(old, new)
    ascii_text = _DOUBLED.sub(r"\1", ascii_text)
    return " ".join(ascii_text.split())


def search_key(*names: str) -> str:
    """The search key of a person: every name form folded, joined by ` | `."""
    parts: list[str] = []
    for name in names:
        for line in (name or "").splitlines():
            folded = fold_word(line)
            if folded and folded not in parts:
                parts.append(folded)
    return " | ".join(parts)
