"""Haven's build backend: the editable install works, a wheel or an sdist is refused.

Haven is an application deployed from its checkout (or from an image built from it): its
migrations, templates, static files, seeds and management commands live beside the packages,
and a wheel made by setuptools from `[tool.setuptools] packages` would silently leave them
out. Rather than ship such a wheel, building one fails with a message that says how Haven is
installed. `pip install -e .` (what `make install` runs) goes through the PEP 660 editable
hooks, which are setuptools' own.

pyproject.toml names this module with `backend-path = ["scripts"]`. setuptools is imported
only by the hooks that use it, so the refusal needs nothing installed.
"""

from __future__ import annotations

from typing import Any, NoReturn

REFUSAL = (
    "Haven is not distributed as a wheel or an sdist: it runs from its checkout (or an image "
    "built from it), where its migrations, templates, static files and seeds are. Install it "
    "with `make install` (pip install -e . on the locked requirements), see README.md."
)


def _refuse() -> NoReturn:
    # SystemExit prints the message alone on stderr, which frontends show, with no traceback.
    raise SystemExit(REFUSAL)


def _setuptools() -> Any:
    from setuptools import build_meta

    return build_meta


# Wheels and sdists: refused, including their metadata step (which a frontend such as
# `pip wheel .` calls first).


def get_requires_for_build_wheel(config_settings: dict | None = None) -> NoReturn:
    _refuse()


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict | None = None
) -> NoReturn:
    _refuse()


def build_wheel(
    wheel_directory: str,
    config_settings: dict | None = None,
    metadata_directory: str | None = None,
) -> NoReturn:
    _refuse()


def get_requires_for_build_sdist(config_settings: dict | None = None) -> NoReturn:
    _refuse()


def build_sdist(sdist_directory: str, config_settings: dict | None = None) -> NoReturn:
    _refuse()


# The editable install (PEP 660): setuptools' hooks, unchanged.


def get_requires_for_build_editable(config_settings: dict | None = None) -> list[str]:
    return _setuptools().get_requires_for_build_editable(config_settings)


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: dict | None = None
) -> str:
    return _setuptools().prepare_metadata_for_build_editable(metadata_directory, config_settings)


def build_editable(
    wheel_directory: str,
    config_settings: dict | None = None,
    metadata_directory: str | None = None,
) -> str:
    return _setuptools().build_editable(wheel_directory, config_settings, metadata_directory)
