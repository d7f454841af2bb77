"""The admin app with Haven's own site (`haven.admin.HavenAdminSite`) as `admin.site`."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class HavenAdminConfig(AdminConfig):
    default_site = "haven.admin.HavenAdminSite"
