"""The seven reports: figures counted by hand on the small world of `world.py`, the period,
unit, procedure and nationality filters, "no data", the charts, and CSV and XLSX on the same
URL; who may see them (decision-makers their unit, administrators all; others 404)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from accounts import roles
from cases import workflow
from cases.models import DeadlineRule
from reports.figures import REPORTS, pieces
from reports.models import Export
from tests.conftest import make_user

from .world import END, build, on

pytestmark = pytest.mark.django_db
d = dt.date
SLUGS = list(REPORTS)


@pytest.fixture
def world(alice, dora, oscar, pabrade):
    return build(alice, dora, oscar, pabrade)


def page(client, user, slug, **params):
    with on(END.date()):
        client.force_login(user)
        response = client.get(reverse("reports:report", args=[slug]), params)
    assert response.status_code == 200, response.content[:500]
    return response


def table(response) -> list[list]:
    return response.context["figures"].rows


def test_backlog_counts_open_cases_at_the_end_of_each_month(client, dora, world):
    rows = table(page(client, dora, "backlog", start="2024-01-01", end="2024-03-31"))
    # End of period, submitted, examination, detention, decided, appealed, total.
    assert rows == [
        [d(2024, 1, 31), 1, 1, 0, 0, 0, 2],
        [d(2024, 2, 29), 1, 0, 0, 1, 0, 2],
        [d(2024, 3, 31), 1, 0, 0, 1, 0, 2],
    ]


def test_backlog_week_by_week(client, dora, world):
    rows = table(page(client, dora, "backlog", start="2024-01-01", end="2024-01-14", step="week"))
    assert rows == [
        [d(2024, 1, 7), 2, 1, 0, 0, 0, 3],
        [d(2024, 1, 14), 1, 1, 1, 0, 0, 3],
    ]


def test_backlog_from_the_middle_of_a_week_and_over_the_turn_of_a_year(client, dora, world):
    weeks = page(client, dora, "backlog", start="2024-01-03", end="2024-01-14", step="week")
    assert table(weeks) == [
        [d(2024, 1, 7), 2, 1, 0, 0, 0, 3],
        [d(2024, 1, 14), 1, 1, 1, 0, 0, 3],
    ]
    months = table(page(client, dora, "backlog", start="2023-11-15", end="2025-01-10"))
    assert months[:3] == [
        [d(2023, 11, 30), 0, 0, 0, 0, 0, 0],
        [d(2023, 12, 31), 0, 0, 0, 0, 0, 0],
        [d(2024, 1, 31), 1, 1, 0, 0, 0, 2],
    ]
    assert months[-2:] == [
        [d(2024, 12, 31), 1, 0, 0, 1, 0, 2],
        [d(2025, 1, 10), 1, 0, 0, 1, 0, 2],
    ]


def test_a_sum_over_days_reads_whole_years_months_and_weeks_from_their_rows():
    assert list(pieces("status", d(2023, 12, 30), d(2025, 2, 11))) == [
        ("status", d(2023, 12, 30)),
        ("status", d(2023, 12, 31)),
        ("status:y", d(2024, 1, 1)),
        ("status:m", d(2025, 1, 1)),
        ("status", d(2025, 2, 1)),  # a Saturday
        ("status", d(2025, 2, 2)),
        ("status:w", d(2025, 2, 3)),  # Monday 3 to Sunday 9 February
        ("status", d(2025, 2, 10)),
        ("status", d(2025, 2, 11)),
    ]
    # Time in each state has no weekly rows.
    assert list(pieces("stage", d(2025, 2, 3), d(2025, 2, 4))) == [
        ("stage", d(2025, 2, 3)),
        ("stage", d(2025, 2, 4)),
    ]


def test_backlog_filters_by_procedure_and_nationality(client, dora, world):
    by_procedure = page(client, dora, "backlog", start="2024-03-01", end="2024-03-31",
                        procedure="border")  # fmt: skip
    assert table(by_procedure) == [[d(2024, 3, 31), 1, 0, 0, 0, 0, 1]]
    by_nationality = page(client, dora, "backlog", start="2024-03-01", end="2024-03-31",
                          nationality="RU")  # fmt: skip
    assert table(by_nationality) == [[d(2024, 3, 31), 0, 0, 0, 1, 0, 1]]


def test_an_administrator_sees_all_units_or_one(client, adam, world, other_unit):
    everyone = page(client, adam, "backlog", start="2024-03-01", end="2024-03-31")
    assert table(everyone) == [[d(2024, 3, 31), 2, 0, 0, 1, 0, 3]]
    one = page(client, adam, "backlog", start="2024-03-01", end="2024-03-31", unit=other_unit.pk)
    assert table(one) == [[d(2024, 3, 31), 1, 0, 0, 0, 0, 1]]


def test_a_decision_maker_sees_only_their_unit_whatever_they_ask(client, other_unit, unit, world):
    olga = make_user("olga", roles.DECISION_MAKER, other_unit)
    response = page(client, olga, "backlog", start="2024-03-01", end="2024-03-31", unit=unit.pk)
    assert table(response) == [[d(2024, 3, 31), 1, 0, 0, 0, 0, 1]]


def test_time_in_each_state_gives_median_and_90th_percentile(client, dora, world):
    january = table(page(client, dora, "stages", start="2024-01-01", end="2024-01-31"))
    assert january == [
        ["Submitted", 2, 2, 8],
        ["Under examination", 2, 3, 16],
        ["In detention", 1, 7, 7],
        ["Decided", 0, None, None],
        ["Appealed", 0, None, None],
    ]
    two_months = table(page(client, dora, "stages", start="2024-01-01", end="2024-02-29"))
    assert two_months[1] == ["Under examination", 3, 16, 26]


def test_statutory_limits_by_rule_and_month(client, dora, world):
    response = page(client, dora, "limits", start="2024-07-01", end="2024-07-31")
    names = dict(DeadlineRule.objects.values_list("code", "name"))
    rows = table(response)
    # Case 1 met the six-month examination limit (decided in February); case 3's is overdue
    # on 1 August; case 2's was cancelled by its withdrawal and is not shown.
    assert ["2024-07", names["examination"], 1, 0, 0, 1, 50.0] in rows
    footer = response.context["figures"].footer
    assert footer[2:6] == [sum(r[i] for r in rows) for i in range(2, 6)]
    january = page(client, dora, "limits", start="2024-01-01", end="2024-01-31")
    assert ["2024-01", names["detention-48h"], 0, 1, 0, 0, 0.0] in table(january)


def test_outcomes_and_the_recognition_rate(client, dora, world):
    response = page(client, dora, "outcomes", start="2024-01-01", end="2024-08-01")
    # Nationality, procedure, one column per outcome, decisions, recognition rate.
    [row] = table(response)
    headers = response.context["figures"].headers
    assert row[:2] == ["Russia", "Regular procedure"]
    assert row[headers.index("Refugee status granted")] == 1
    assert sum(row[2:-2]) == 1
    assert row[-2:] == [1, 100.0]


def test_occupancy_against_the_places_of_the_facility(client, dora, world, pabrade):
    rows = table(page(client, dora, "occupancy", start="2024-01-01", end="2024-01-14", step="week"))
    # End, facility, open accommodation, restricted, detention, used, places, used %.
    assert rows == [
        [d(2024, 1, 7), pabrade.name, 0, 0, 0, 0, 3, 0.0],
        [d(2024, 1, 14), pabrade.name, 0, 0, 1, 1, 3, 33.3],
    ]


def test_workload_per_assignee(client, dora, adam, world):
    response = page(client, dora, "workload")
    # Case 1 (decided) is alice's; case 3 is nobody's, its examination limit overdue and its
    # border procedure's 4 weeks too (due 2024-02-01; the right to work is an entitlement,
    # not a limit).
    assert table(response) == [["Nobody (unassigned)", 1, 2], ["Alice", 1, 0]]
    everyone = page(client, adam, "workload")
    assert response.context["figures"].footer[1:] == [2, 2]
    assert everyone.context["figures"].footer[1] == 3


def test_age_of_open_cases(client, dora, world):
    rows = table(page(client, dora, "age"))
    assert rows[0] == ["Submitted", 0, 0, 0, 1, 0, 1]
    assert rows[3] == ["Decided", 0, 0, 0, 1, 0, 1]


def test_the_age_report_reads_no_case(client, dora, world):
    with CaptureQueriesContext(connection) as queries:
        table(page(client, dora, "age"))
    read = " ".join(q["sql"] for q in queries)
    assert "reports_reportrow" in read
    assert "cases_application" not in read


def test_a_corrected_date_of_application_moves_the_case_to_its_age_band(client, dora, root, world):
    with on(d(2024, 7, 30)):
        workflow.correct_record(
            world["three"], actor=root, reason="Typed wrongly", submitted_on=d(2023, 7, 1)
        )
    # On 1 August 2024 case 3 was made 397 days before (over a year), case 1 212 days before.
    rows = table(page(client, dora, "age"))
    assert rows[0] == ["Submitted", 0, 0, 0, 0, 1, 1]
    assert rows[3] == ["Decided", 0, 0, 0, 1, 0, 1]


def test_the_age_report_leaves_out_cases_withdrawn(client, alice, dora, world):
    with on(d(2024, 7, 31)):
        workflow.withdraw(
            world["three"], actor=alice, expected_status="submitted", reason="Left", kind="explicit"
        )
    rows = table(page(client, dora, "age"))
    assert [r[-1] for r in rows] == [0, 0, 0, 1, 0]


def test_a_period_without_data_says_so_instead_of_an_empty_chart(client, dora, world):
    for slug in ("backlog", "stages", "limits", "outcomes", "occupancy"):
        response = page(client, dora, slug, start="2020-01-01", end="2020-03-31")
        html = response.content.decode()
        assert "No data for this period." in html, slug
        assert "<img" not in html, slug


BAD_FILTERS = [
    {"start": "2024-02-01", "end": "2024-01-01"},
    {"start": "x"},
    {"procedure": "<b>"},
    {"nationality": "XX"},
    {"step": "day"},
    {"start": "2010-01-01", "end": "2024-01-01", "step": "week"},
]


def test_bad_filters_are_a_400_with_the_form(client, dora):
    client.force_login(dora)
    for params in BAD_FILTERS:
        response = client.get(reverse("reports:report", args=["backlog"]), params)
        assert response.status_code == 400, params
        assert "<form" in response.content.decode()
        chart = client.get(reverse("reports:chart", args=["backlog"]), params)
        assert chart.status_code == 400, params


def test_each_chart_is_svg_with_a_title_and_a_description_and_no_script(client, dora, world):
    with on(END.date()):
        client.force_login(dora)
        for slug in SLUGS:
            response = client.get(reverse("reports:chart", args=[slug]), {"start": "2024-01-01"})
            assert response.status_code == 200
            assert response["Content-Type"] == "image/svg+xml"
            svg = response.content.decode()
            assert f"<title>{REPORTS[slug].title}</title>" in svg
            assert "<desc>" in svg
            assert "<script" not in svg


def test_each_report_exports_csv_and_xlsx_with_the_tables_figures(client, dora, world):
    for slug in SLUGS:
        shown = page(client, dora, slug, start="2024-01-01", end="2024-08-01")
        figures = shown.context["figures"]
        params = {"start": "2024-01-01", "end": "2024-08-01"}
        url = reverse("reports:report", args=[slug])
        with on(END.date()):
            csv_file = client.get(url, {**params, "format": "csv"})
            xlsx_file = client.get(url, {**params, "format": "xlsx"})
        assert csv_file.status_code == 200
        text = b"".join(csv_file.streaming_content).decode("utf-8")
        assert text.startswith("\ufeff")
        lines = list(csv.reader(io.StringIO(text[1:])))
        assert lines[0] == figures.headers
        expected = len(figures.rows) + (1 if figures.footer else 0)
        assert len(lines) - 1 == expected
        sheet = load_workbook(io.BytesIO(b"".join(xlsx_file.streaming_content))).active
        assert [c.value for c in next(sheet.iter_rows())] == figures.headers
        assert sheet.max_row - 1 == expected
        recorded = Export.objects.filter(list_name=f"report-{slug}").order_by("pk")
        assert [(e.format, e.rows, e.user_id) for e in recorded] == [
            ("csv", expected, dora.pk),
            ("xlsx", expected, dora.pk),
        ]
        assert "start=2024-01-01" in recorded[0].query


def test_export_headers_are_translated(client, dora, world):
    with on(END.date()):
        client.force_login(dora)
        with translation.override("lt"):
            response = client.get(
                reverse("reports:report", args=["workload"]),
                {"format": "csv"},
                headers={"accept-language": "lt"},
            )
    text = b"".join(response.streaming_content).decode("utf-8")
    assert "Nebaigtos bylos" in text.splitlines()[0]


def test_an_unknown_format_is_a_400(client, dora, world):
    client.force_login(dora)
    response = client.get(reverse("reports:report", args=["backlog"]), {"format": "pdf"})
    assert response.status_code == 400


def test_an_unknown_report_is_404(client, dora):
    client.force_login(dora)
    assert client.get("/reports/other/").status_code == 404
