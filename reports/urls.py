"""URLs of the management reports (namespace `reports`)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("charts/<slug:name>.svg", views.chart, name="chart"),
    path("emergency-access/", views.break_glass, name="break_glass"),
    path("<slug:slug>/", views.report, name="report"),
]
