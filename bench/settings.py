"""Settings for benchmark runs only: Haven's settings plus the floor page's URL and template.

`bench/run.py` and the gunicorn it starts use `DJANGO_SETTINGS_MODULE=bench.settings`.
Production uses `haven.settings`, whose URLconf has no floor page: it cannot be reached there.
"""

from __future__ import annotations

from haven.settings import *  # noqa: F403
from haven.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
