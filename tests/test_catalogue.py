"""The Lithuanian catalogue is complete and stays complete.

Lithuanian is the authority's working language: a message marked in code but missing from
`locale/lt/LC_MESSAGES/django.po` would show English to a Lithuanian civil servant, and an
untranslated or fuzzy entry would do the same silently. These tests run `makemessages` on a
scratch copy of the code (the committed catalogue is never rewritten by a test) and
`msgfmt --check --statistics` on the committed catalogue.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_python

CATALOGUE = Path("locale") / "lt" / "LC_MESSAGES" / "django.po"
# An app with a locale/ folder of its own (api/, reports/) keeps its messages there:
# makemessages writes each file's messages to the nearest locale/ folder above it.
APP_CATALOGUES = sorted(
    path.relative_to(ROOT) for path in ROOT.glob("*/locale/lt/LC_MESSAGES/django.po")
)
CATALOGUES = [CATALOGUE, *APP_CATALOGUES]
# What makemessages must not walk, and what a scratch copy does not need.
NOT_CODE = (
    ".venv",
    ".git",
    "var",
    "test-artifacts",
    "media",
    "staticfiles",
    "node_modules",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "*.egg-info",
    "*.mo",
    "db.sqlite3",
)

pytestmark = pytest.mark.skipif(
    shutil.which("msgfmt") is None or shutil.which("msgattrib") is None,
    reason="gettext tools (msgfmt, msgattrib) are not installed",
)


def _gettext(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - gettext's own tools on our own files
        list(args), capture_output=True, text=True, check=False, timeout=120
    )


def _msgids(po_text: str) -> list[str]:
    """The msgid lines of a `msgattrib` listing, the header's empty msgid left out."""
    return [
        line for line in po_text.splitlines() if line.startswith("msgid ") and line != 'msgid ""'
    ]


def test_it_finds_every_marked_message_in_the_lithuanian_catalogue(tmp_path):
    scratch = tmp_path / "haven"
    shutil.copytree(ROOT, scratch, ignore=shutil.ignore_patterns(*NOT_CODE), symlinks=True)
    env = {
        **os.environ,
        "HAVEN_IGNORE_DOTENV": "1",
        "DEBUG": "true",
        "SECRET_KEY": "catalogue-check-only",
    }
    env.pop("DATABASE_URL", None)
    ignores = [f"--ignore={name}" for name in NOT_CODE]
    made = run_python(
        "manage.py", "makemessages", "-l", "lt", "--no-obsolete", *ignores, env=env, cwd=scratch
    )
    assert made.returncode == 0, made.stderr

    for catalogue in CATALOGUES:
        merged = scratch / catalogue
        missing = _gettext("msgattrib", "--untranslated", "--no-obsolete", str(merged))
        fuzzy = _gettext("msgattrib", "--only-fuzzy", "--no-obsolete", "--no-wrap", str(merged))
        assert missing.returncode == 0 and fuzzy.returncode == 0, missing.stderr + fuzzy.stderr
        assert _msgids(missing.stdout) == [], (
            f"Messages marked in code are missing from {catalogue}: run makemessages "
            "-l lt (see the README) and translate them.\n" + missing.stdout
        )
        assert _msgids(fuzzy.stdout) == [], (
            f"makemessages guessed these from similar messages (fuzzy) in {catalogue}: "
            "translate them.\n" + fuzzy.stdout
        )


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=str)
def test_it_has_no_untranslated_or_fuzzy_entry_in_the_lithuanian_catalogue(tmp_path, catalogue):
    checked = _gettext(
        "msgfmt",
        "--check",
        "--statistics",
        "-o",
        str(tmp_path / "django.mo"),
        str(ROOT / catalogue),
    )
    assert checked.returncode == 0, checked.stderr
    assert "translated message" in checked.stderr
    assert "untranslated" not in checked.stderr, checked.stderr
    assert "fuzzy" not in checked.stderr, checked.stderr
