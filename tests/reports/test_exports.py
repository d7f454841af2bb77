"""CSV and XLSX exports of the lists: the rows of the page across every page, scoped by the
one door, recorded in each case's access log, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from cases import workflow
from reports import exports
from reports.models import Export, ExportedCase
from tests.conftest import submit

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
FACILITIES = reverse("cases:facilities")


def page_refs(client, params) -> list[str]:
    """The references the list shows, page after page."""
    refs, page = [], 1
    while True:
        response = client.get(LIST, {**params, "page": page})
        assert response.status_code == 200
        refs += [row["reference"] for row in response.context["rows"]]
        if not response.context["page"].has_next():
            return refs
        page += 1


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel looks for
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


@pytest.fixture
def many(alice, oscar):
    """32 cases of alice's unit (28 Russian, 4 Belarusian) and 3 of another unit."""
    cases = []
    for i in range(28):
        cases.append(
            submit(
                alice,
                family_name=f"Name{i:02d}",
                given_names="Ivan",
                nationality="RU",
                submitted_on=dt.date(2023, 1, 1) + dt.timedelta(days=i),
            )
        )
    for i in range(4):
        cases.append(submit(alice, family_name=f"Belarus{i}", nationality="BY"))
    others = [submit(oscar, family_name=f"Other{i}", nationality="RU") for i in range(3)]
    return cases, others


@pytest.mark.parametrize("sort", ["name", "-submitted", "submitted", "reference"])
def test_csv_has_the_rows_of_every_page_in_the_pages_order(client, alice, many, sort, monkeypatch):
    cases, others = many
    monkeypatch.setattr(exports, "CHUNK", 6)  # several fetches from the cursor, placements too
    client.force_login(alice)
    params = {"nationality": "RU", "sort": sort}
    shown = page_refs(client, params)
    assert len(shown) == 28  # two pages of 25: the export is not the first page only
    rows = csv_rows(client.get(LIST, {**params, "format": "csv", "page": 2}))
    assert rows[0][0] == "Reference"
    assert [r[0] for r in rows[1:]] == shown


def test_xlsx_has_the_same_rows_with_dates_as_dates(client, alice, many):
    cases, _ = many
    client.force_login(alice)
    params = {"nationality": "RU", "sort": "submitted"}
    shown = page_refs(client, params)
    rows = xlsx_rows(client.get(LIST, {**params, "format": "xlsx"}))
    header = rows[0]
    assert [r[0] for r in rows[1:]] == shown
    submitted = header.index("Submitted")
    # The first case waited longest: submitted on 1 January 2023, read back as a date.
    assert rows[1][submitted].date() == dt.date(2023, 1, 1)


def test_csv_writes_dates_as_iso_days(client, alice, many):
    client.force_login(alice)
    rows = csv_rows(client.get(LIST, {"sort": "submitted", "nationality": "RU", "format": "csv"}))
    submitted = rows[0].index("Submitted")
    assert rows[1][submitted] == "2023-01-01"
    assert rows[2][submitted] == "2023-01-02"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_caseworker_exports_only_their_units_cases(client, alice, oscar, many, fmt):
    cases, others = many
    client.force_login(oscar)
    body = csv_rows if fmt == "csv" else xlsx_rows
    rows = body(client.get(LIST, {"format": fmt}))
    assert sorted(r[0] for r in rows[1:]) == sorted(c.reference for c in others)
    client.force_login(alice)
    rows = body(client.get(LIST, {"format": fmt, "q": "Other0"}))
    assert rows[1:] == []


def test_an_administrator_exports_every_unit(client, adam, many):
    cases, others = many
    client.force_login(adam)
    rows = csv_rows(client.get(LIST, {"format": "csv"}))
    assert sorted(r[0] for r in rows[1:]) == sorted(c.reference for c in cases + others)


def test_someone_without_a_role_gets_no_file(client, django_user_model, many):
    nobody = django_user_model.objects.create_user("nobody", password="x" * 12)
    client.force_login(nobody)
    response = client.get(LIST, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert not [c for c in many[0] + many[1] if c.reference in content]
    assert not Export.objects.exists()


def test_signed_out_gets_the_sign_in_page(client, many):
    response = client.get(LIST, {"format": "csv"})
    assert response.status_code == 302
    assert not Export.objects.exists()


def test_each_export_is_recorded_and_shown_in_each_cases_access_log(client, alice, dora, many):
    cases, others = many
    client.force_login(alice)
    csv_rows(client.get(LIST, {"nationality": "BY", "format": "csv"}))
    export = Export.objects.get()
    assert (export.user, export.list_name, export.format) == (alice, "cases", "csv")
    assert export.query == "nationality=BY"
    assert export.rows == 4
    belarusian = {c.pk for c in cases[28:]}
    assert set(ExportedCase.objects.values_list("application_id", flat=True)) == belarusian

    client.force_login(dora)
    log = client.get(reverse("cases:detail", args=[cases[28].pk])).context["access_log"]
    exported = [row for row in log if "Exported" in row["what"]]
    assert len(exported) == 1
    assert exported[0]["actor"] == "Alice"
    assert "CSV, 4 rows" in exported[0]["what"]
    assert "nationality=BY" in exported[0]["what"]
    log = client.get(reverse("cases:detail", args=[cases[0].pk])).context["access_log"]
    assert not [row for row in log if "Exported" in row["what"]]


def test_facilities_export_is_recorded_with_its_row_count(client, alice, pabrade, rukla, case):
    workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    client.force_login(alice)
    rows = csv_rows(client.get(FACILITIES, {"format": "csv"}))
    assert rows[0][:7] == ["Facility", "Code", "Kind", "In use", "Places", "Taken", "Free"]
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["frc-pabrade"][4:7] == ["3", "0", "3"]
    assert by_code["rukla"][4] == "50"
    export = Export.objects.get()
    assert (export.list_name, export.rows) == ("facilities", 2)
    rows = xlsx_rows(client.get(FACILITIES, {"format": "xlsx"}))
    assert {r[1] for r in rows[1:]} == {"frc-pabrade", "rukla"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_are_neutralised(client, alice, fmt):
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
    for name in hostile:
        submit(alice, family_name=name, given_names="", name_original=name)
    client.force_login(alice)
    rows = (csv_rows if fmt == "csv" else xlsx_rows)(client.get(LIST, {"format": fmt}))
    original = rows[0].index("Name in original script")
    expected = ["'" + name for name in hostile]
    if fmt == "xlsx":  # XML reads a carriage return back as a line feed
        expected = [name.replace("\r", "\n") for name in expected]
    assert sorted(r[original] for r in rows[1:]) == sorted(expected)


def test_cyrillic_and_lithuanian_letters_round_trip(client, alice):
    submit(
        alice, family_name="Žemaitė-Šliūpas", given_names="Ąžuolas", name_original="Иван Королёв"
    )
    client.force_login(alice)
    rows = csv_rows(client.get(LIST, {"format": "csv"}))
    assert "Ąžuolas" in rows[1][2]
    assert "ŽEMAITĖ-ŠLIŪPAS" in rows[1][2]  # family names are written in capitals
    assert rows[1][3] == "Иван Королёв"
    rows = xlsx_rows(client.get(LIST, {"format": "xlsx"}))
    assert rows[1][3] == "Иван Королёв"
    assert "Ąžuolas" in rows[1][2]


def test_headers_are_in_the_users_language(client, alice, case):
    client.force_login(alice)
    with translation.override("lt"):
        rows = csv_rows(client.get(LIST, {"format": "csv"}, headers={"accept-language": "lt"}))
    assert rows[0][0] == "Bylos numeris"
    assert rows[0][5] == "Būsena"


@pytest.mark.parametrize(
    "value", ["pdf", "", "CSV", "<script>alert(1)</script>", "csv\x00", "x" * 5000]
)
def test_a_hostile_format_is_a_clear_400(client, alice, case, value):
    client.force_login(alice)
    for url in (LIST, FACILITIES):
        response = client.get(url, {"format": value})
        assert response.status_code == 400
        assert b"<script>alert" not in response.content
        assert "not a format this list can be downloaded in" in response.content.decode()
    assert not Export.objects.exists()


def test_the_list_links_to_both_formats_with_its_filters(client, alice, case):
    client.force_login(alice)
    response = client.get(LIST, {"nationality": "RU", "page": "1", "sort": "name"})
    content = response.content.decode()
    assert 'href="/cases/?nationality=RU&amp;sort=name&amp;format=csv"' in content
    assert 'href="/cases/?nationality=RU&amp;sort=name&amp;format=xlsx"' in content


def test_a_placement_and_an_assignee_are_in_their_columns(client, alice, dora, build_case):
    detained = build_case("detention")
    workflow.assign(detained, actor=dora, assignee=alice, reason="Hers")
    client.force_login(dora)
    rows = csv_rows(client.get(LIST, {"format": "csv"}))
    header, row = rows[0], rows[1]
    assert row[header.index("Placement")] == "Foreigners' Registration Centre, Pabradė (Detention)"
    assert row[header.index("Assigned to")] == "Alice"
    assert row[header.index("Status")] == "In detention"
