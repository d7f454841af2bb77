"""Haven runs from its checkout: building a wheel or an sdist fails with a message saying so.

A wheel built from `[tool.setuptools] packages` would lack the migrations, templates, static
files and seeds, and used to be built without a word. scripts/build_backend.py refuses instead
(`make install`'s editable install goes through its other hooks, every time it runs).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = "Haven is not distributed as a wheel or an sdist"


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_it_refuses_to_build_a_wheel_with_a_clear_message(tmp_path):
    done = run(
        "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path), "."
    )

    assert done.returncode != 0
    assert MESSAGE in done.stdout + done.stderr
    assert "make install" in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_to_build_an_sdist_with_the_same_message(tmp_path):
    # pip builds no sdists: call the PEP 517 hook as a frontend (python -m build) would.
    done = run(
        "-c",
        "import sys, build_backend; build_backend.build_sdist(sys.argv[1])",
        str(tmp_path),
        env={"PYTHONPATH": str(ROOT / "scripts"), "PATH": "/usr/bin:/bin"},
    )

    assert done.returncode != 0
    assert MESSAGE in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
