"""Haven's admin site: Django's, titled for Haven, and plain about who it is for.

A signed-in user who is not staff (a caseworker who typed /admin/) is told that the admin is
for administrators only, in Haven's layout, instead of being shown Django's sign-in box as if
another account were expected. Anonymous visitors still get the sign-in page.

Its pages fit a 1024 px window (tests/browser/test_admin_fits.py): no navigation column,
Haven's stylesheet after the admin's (templates/admin/base_site.html, static/css/admin.css),
and the list columns below, which every app's admin uses for names and long text.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


class HavenAdminSite(AdminSite):
    site_header = _("Haven administration")
    site_title = _("Haven administration")
    index_title = _("Administration")
    # The navigation column would take a third of a 1024 px window from every list; the
    # admin's home page and the breadcrumbs lead to the same lists.
    enable_nav_sidebar = False

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and not self.has_permission(request):
            return render(request, "admin_only.html", status=403)
        return super().login(request, extra_context)


# ---- list columns that fit the window ----------------------------------------------------
# Django's admin keeps a foreign key's text on one line (its cells are `nowrap`), so a long
# name widens the whole list. These columns show the same value as text that wraps, short
# where a list needs it short, with the full value in the cell's title (the change page
# shows it too).


def clipped(text: object, length: int = 80) -> str:
    """`text` cut at `length` characters with an ellipsis, the whole of it in a title."""
    text = " ".join(str(text or "").split())
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1].rstrip())


def text_column(model, field: str, *, length: int = 80):
    """A list column of `model.field` (a text or a relation, shown as its text), titled as
    the field: it wraps, and is cut at `length` characters with the whole value in a title."""

    @admin.display(description=model._meta.get_field(field).verbose_name, ordering=field)
    def column(obj) -> str | None:
        value = getattr(obj, field)
        return None if value in (None, "") else clipped(value, length)

    column.__name__ = field  # the cell's class stays `field-<name>`
    return column


def person_column(model, field: str):
    """A list column of the user in `model.field`: their name (their username when they have
    none), with the name and username in the title."""

    @admin.display(
        description=model._meta.get_field(field).verbose_name, ordering=f"{field}__last_name"
    )
    def column(obj) -> str | None:
        user = getattr(obj, field)
        if user is None:
            return None
        return format_html('<span title="{}">{}</span>', user, user.get_full_name() or user)

    column.__name__ = field
    return column


def moment_column(model, field: str):
    """A list column of a date and time that may go onto two lines between the date and the
    time, never inside either (Django keeps the two on one line)."""

    @admin.display(description=model._meta.get_field(field).verbose_name, ordering=field)
    def column(obj) -> str | None:
        value = getattr(obj, field)
        if value is None:
            return None
        value = timezone.localtime(value)
        return format_html(
            '<span class="nowrap">{}</span> <span class="nowrap">{}</span>',
            date_format(value),
            time_format(value),
        )

    column.__name__ = field
    return column
