"""Haven's URLs plus the benchmark's floor page (bench/settings.py only)."""

from __future__ import annotations

from django.urls import path

from haven.urls import urlpatterns as haven_urlpatterns

from . import views

urlpatterns = [
    path("bench/floor/", views.floor_case_list, name="bench_floor"),
    *haven_urlpatterns,
]
