"""The README's curl examples of the API work as written (against a live server)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, submit

from .conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def readme_curls() -> list[str]:
    """The curl commands of the README's API section (continued lines joined)."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## API\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    commands = re.findall(r"^    (curl .*?(?:\\\n    .*?)*)$", section, flags=re.MULTILINE)
    return [re.sub(r"\\\n\s*", " ", command) for command in commands]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_s_curl_examples_find_korolev(live_server, alice):
    found = submit(alice)  # Ivan Korolev, Иван Королёв
    submit(alice, family_name="Petrov", given_names="Oleg", name_original="Олег Петров")
    token = token_for(alice)
    commands = readme_curls()
    assert len(commands) == 2, commands
    assert any("%D0%9A%D0%BE%D1%80%D0%BE%D0%BB%D1%91%D0%B2" in c for c in commands)
    for command in commands:
        line = command.replace("http://localhost:8000", live_server.url)
        args = [a.replace("$HAVEN_TOKEN", token) for a in shlex.split(line)]
        done = subprocess.run(  # noqa: S603 - the README's own command, on the loopback
            args, capture_output=True, text=True, check=True, timeout=60
        )
        answer = json.loads(done.stdout)
        assert [r["reference"] for r in answer["results"]] == [found.reference], command
