"""Haven's admin site: Django's, titled for Haven, and plain about who it is for.

A signed-in user who is not staff (a caseworker who typed /admin/) is told that the admin is
for administrators only, in Haven's layout, instead of being shown Django's sign-in box as if
another account were expected. Anonymous visitors still get the sign-in page.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


class HavenAdminSite(AdminSite):
    site_header = _("Haven administration")
    site_title = _("Haven administration")
    index_title = _("Administration")

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and not self.has_permission(request):
            return render(request, "admin_only.html", status=403)
        return super().login(request, extra_context)
