"""URLs of the caseworker UI (namespace `cases`)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.case_list, name="list"),
    path("cases/assign/", views.bulk_assign, name="bulk_assign"),
    path("cases/new/", views.intake, name="intake"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/notes/", views.add_note, name="add_note"),
    path("cases/<int:pk>/documents/", views.add_document, name="add_document"),
    path(
        "cases/<int:pk>/documents/<int:document_pk>/",
        views.document_download,
        name="document",
    ),
    path("cases/<int:pk>/assign/", views.assign, name="assign"),
    path("cases/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("cases/<int:pk>/break-glass/", views.break_glass, name="break_glass"),
    path(
        "cases/<int:pk>/break-glass/extend/",
        views.extend_break_glass,
        name="extend_break_glass",
    ),
    path(
        "cases/<int:pk>/break-glass/end/",
        views.revoke_break_glass,
        name="revoke_break_glass",
    ),
    path("cases/<int:pk>/steps/<slug:name>/", views.transition, name="transition"),
    path("cases/<int:pk>/records/<slug:name>/", views.case_action, name="action"),
    path(
        "cases/<int:pk>/deadlines/<int:deadline_pk>/waive/",
        views.waive_deadline,
        name="waive_deadline",
    ),
    path("facilities/", views.facilities, name="facilities"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
