"""A case page's address built once per prefix gives what `reverse` gives."""

from __future__ import annotations

from django.urls import clear_script_prefix, reverse, set_script_prefix

from cases.views.common import case_url


def test_it_is_what_reverse_gives_under_any_script_prefix():
    try:
        for prefix in ("/", "/haven/", "/a b/"):
            set_script_prefix(prefix)
            for pk in (1, 42, 2**63 - 1):
                assert case_url(pk) == reverse("cases:detail", args=[pk])
            assert case_url(7).startswith(prefix.replace(" ", "%20"))
    finally:
        clear_script_prefix()
        set_script_prefix("/")
