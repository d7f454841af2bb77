# The runner starts its own tools (manage.py, apt-get, gunicorn, wrk) with fixed arguments
# and opens URLs it builds itself on the loopback.
# ruff: noqa: S603, S607, S310
"""`make bench`: build or reuse a benchmark database, then measure Haven's pages.

    BENCH_CASES=100000 make bench          # or: .venv/bin/python -m bench.run

1. Database `haven_bench_<BENCH_CASES>` on the local PostgreSQL (BENCH_POSTGRES_URL, default
   postgres://root@127.0.0.1:5432): created, migrated and filled with `generate_cases` when
   missing; rebuilt when the table `bench_meta` in it records another generator version or
   an unfinished load; otherwise reused (and migrated, so new indexes apply).
2. In-process measurement with DEBUG=false and persistent connections (bench/settings.py:
   Haven's settings plus the floor page): each page is requested as a caseworker of the
   largest synthetic unit (`force_login`: a real database session, as in production), the
   admin's case list as a superuser, the API's case list and case detail (`api_*` rows, the
   same list and case as `case_list` and `case_detail`, with their ratio to those pages) by
   the same caseworker with a bearer token made for the run; warm-up rounds, then
   BENCH_REQUESTS (default 100) requests per page taken round-robin. Time is measured around
   the whole request through Django's handler (the test client; no network); queries are
   counted with `connection.execute_wrapper`. Plus: the bare SQL of the case list
   (`sql_case_list`), the first deadline sweep over the whole backlog (BENCH_FIRST_SWEEP_RUNS
   times, default once, 0 skips it; rolled back after timing), and BENCH_SWEEP_RUNS sweeps at
   a past moment chosen so that BENCH_SWEEP_DUE deadlines are due (the same number at every
   size). The sweeps run last, after the throughput part: at a million cases the first one
   takes the longest of anything here. BENCH_PAGES (comma-separated names or patterns, for
   example `report_*,dashboard`) measures only those pages besides the floor and the list.
   The report pages are then requested BENCH_COLD_REQUESTS times more (default 20, 0 skips
   it) with their figures computed on each request, not taken from the figures' cache
   (`report_*_cold` rows: the first view of a filter, or the first after a change).
3. Throughput: gunicorn (2 workers, persistent connections, DEBUG=false) on a free port of
   127.0.0.1, driven by `wrk` for BENCH_WRK_SECONDS (default 30) per page with the session
   cookie; requests per second, p95 and non-2xx answers. `wrk` is installed with apt-get when
   missing; BENCH_WRK_SECONDS=0 skips this part.
4. Mixed load (bench/mixed_load.py): 20 sessions at once on one case of its own, through
   gunicorn with 4 workers, BENCH_MIXED_ROUNDS rounds (default 20, 0 skips it): requests per
   second, p50/p95 and answers that were not 2xx/3xx per kind of request (`mixed_*` rows).
5. Exports (bench/export_memory.py): the whole case list as CSV and as XLSX, each in a
   process of its own, as the superuser: rows, time, and the process's peak resident memory
   before and after the export (`export_*` rows).

Prints a table and writes bench/results.json (entries of other sizes, and of pages not
measured in this run, are kept; each entry says when it was measured), plus the
EXPLAIN of the name search in var/bench/.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
OUT = ROOT / "var" / "bench"
PYTHON = sys.executable
SEED = 1
REPORT_SLUGS = ("backlog", "age", "stages", "limits", "outcomes", "occupancy", "workload")


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        sys.exit(f"{name}={raw!r}: give a whole number of at least {minimum}.")
    return int(raw)


CASES = _env_int("BENCH_CASES", 100_000, minimum=100)
REQUESTS = _env_int("BENCH_REQUESTS", 100, minimum=1)
# Requests per report page with the figures computed on each (`report_*_cold` rows).
COLD_REQUESTS = _env_int("BENCH_COLD_REQUESTS", 20)
WARMUP = _env_int("BENCH_WARMUP", 10, minimum=1)
WRK_SECONDS = _env_int("BENCH_WRK_SECONDS", 30)
SWEEP_DUE = _env_int("BENCH_SWEEP_DUE", 1000, minimum=1)
SWEEP_RUNS = _env_int("BENCH_SWEEP_RUNS", 3, minimum=1)
FIRST_SWEEP_RUNS = _env_int("BENCH_FIRST_SWEEP_RUNS", 1)
# 0 skips the report pages and the rebuild of their rows that they need once per database
# (long at 1,000,000 cases), and the exports of every case (tens of minutes in XLSX there).
REPORTS = _env_int("BENCH_REPORTS", 1)
# Only the pages named (comma-separated, shell patterns such as `report_*`), besides the floor
# and the case list; empty: every page. Entries of the pages left out are kept from earlier runs.
ONLY = [p.strip() for p in os.environ.get("BENCH_PAGES", "").split(",") if p.strip()]
EXPORTS = _env_int("BENCH_EXPORTS", 1)
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://root@127.0.0.1:5432").rstrip("/")
DATABASE = f"haven_bench_{CASES}"
DATABASE_URL = f"{POSTGRES_URL}/{DATABASE}"


# The API's pages and the UI's page each is compared with (the same data for the same user).
API_PAGES = {"api_case_list": "case_list", "api_case_detail": "case_detail"}
BENCH_CLIENT_NAME = "bench"


def say(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------------
# The environment of every process of the run
# ------------------------------------------------------------------------------------------


def bench_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "HAVEN_TESTING")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "HAVEN_IGNORE_DOTENV": "1",  # a development .env would turn DEBUG on
            "DATABASE_URL": DATABASE_URL,
            "DATABASE_CONN_MAX_AGE": "600",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback
            "STATIC_ROOT": str(OUT / "static"),
            "LOG_LEVEL": "WARNING",
            # The API's rows measure its pages, not its per-token limit (still counted).
            "API_THROTTLE_RATE": "100000/s",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("REDIS_URL", None)  # the sweep's sends are rolled back; nothing is enqueued
    env["HAVEN_ALLOW_NO_REDIS"] = "1"  # measuring pages, not running the schedule
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


# ------------------------------------------------------------------------------------------
# The database
# ------------------------------------------------------------------------------------------


def _meta(dbname: str) -> dict[str, str]:
    try:
        with psycopg.connect(f"{POSTGRES_URL}/{dbname}", autocommit=True) as conn:
            rows = conn.execute(
                "SELECT key, value FROM bench_meta"
                if conn.execute("SELECT to_regclass('bench_meta')").fetchone()[0]
                else "SELECT NULL, NULL WHERE false"
            ).fetchall()
    except psycopg.OperationalError:
        return {}
    return dict(rows)


def _exists(admin: psycopg.Connection, dbname: str) -> bool:
    return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone())


# The report rows of `reports.folding`: rebuilt (`rebuild_report_rows`) when the database is
# generated, or reused without them (the loader writes the timeline directly, not through
# the workflow that folds it), or folded by another version.
REPORT_ROWS_VERSION = "3"


def _save_meta(values: dict[str, str]) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        for key, value in values.items():
            conn.execute(
                "INSERT INTO bench_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )


def prepare_report_rows(env: dict[str, str], meta: dict[str, str]) -> dict[str, str]:
    """Rebuild the report rows from the generated timeline, once, and time it."""
    if meta.get("report_rows_version") == REPORT_ROWS_VERSION:
        return meta
    say("Rebuilding the report rows (rebuild_report_rows) ...")
    started = time.monotonic()
    manage(env, "rebuild_report_rows", "--no-progress")
    seconds = time.monotonic() - started
    say(f"Rebuilt the report rows of {CASES:,} cases in {seconds:.0f} s.")
    values = {
        "report_rows_version": REPORT_ROWS_VERSION,
        "rebuild_report_rows_seconds": f"{seconds:.1f}",
        "rebuild_report_rows_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _save_meta(values)
    return {**meta, **values}


def prepare_database(env: dict[str, str]) -> dict[str, str]:
    from loadgen.loader import GENERATOR_VERSION

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        meta = _meta(DATABASE) if _exists(admin, DATABASE) else None
        fresh = (
            meta is not None
            and meta.get("generator_version") == str(GENERATOR_VERSION)
            and meta.get("complete") == "true"
        )
        if meta is not None and not fresh:
            say(f"{DATABASE} was built by another generator version or not finished: rebuilding.")
            admin.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        if not fresh:
            say(f"Creating {DATABASE} ...")
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    say("Migrating ...")
    manage(env, "migrate", "--no-input", "-v0")
    if fresh:
        say(
            f"Reusing {DATABASE} ({meta.get('cases')} cases, generated {meta.get('generated_at')})."
        )
        return meta
    started = time.monotonic()
    manage(env, "generate_cases", "--count", str(CASES), "--seed", str(SEED))
    seconds = time.monotonic() - started
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        long_case = conn.execute(
            "SELECT application_id FROM cases_caseevent GROUP BY application_id "
            "HAVING count(*) = 200 ORDER BY application_id LIMIT 1"
        ).fetchone()[0]
        meta = {
            "generator_version": str(GENERATOR_VERSION),
            "cases": str(CASES),
            "seed": str(SEED),
            "long_case_id": str(long_case),
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "generate_seconds": f"{seconds:.1f}",
            "complete": "true",
        }
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        for key, value in meta.items():
            conn.execute(
                "INSERT INTO bench_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
    say(f"Generated {CASES:,} cases in {seconds:.0f} s (generate_cases, migrate excluded).")
    return meta


# ------------------------------------------------------------------------------------------
# In-process measurement
# ------------------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[tuple[str, Any]] = []
        self.keep = False

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.keep:
            self.statements.append((sql, params))
        return execute(sql, params, many, context)


def _ms(ns: int) -> float:
    return ns / 1e6


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def measure_in_process(meta: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts import roles
    from accounts.models import User
    from api.models import ApiToken
    from bench.signin import signed_in_client
    from bench.views import fetch_rows
    from loadgen import world as synthetic

    assert not settings.DEBUG, "the benchmark runs with DEBUG off"
    largest = synthetic.UNITS[0][0]
    caseworker = (
        User.objects.filter(unit__name=largest, groups__name=roles.CASEWORKER)
        .order_by("pk")
        .first()
    )
    if caseworker is None:
        sys.exit(f"No caseworker of {largest!r} in {DATABASE}: rebuild it (drop the database).")
    superuser, created = User.objects.get_or_create(
        username="syn-bench-superuser",
        defaults={"is_superuser": True, "is_staff": True, "password": "!synthetic"},
    )
    del created
    long_case = int(meta["long_case_id"])
    lists = reverse("cases:list")
    pages: list[tuple[str, str, str]] = [
        ("dashboard", reverse("cases:dashboard"), "caseworker"),
        # A decision-maker's dashboard watches the whole unit (half of all cases).
        ("dashboard_decision_maker", reverse("cases:dashboard"), "decision_maker"),
        ("case_list", lists, "caseworker"),
        ("api_case_list", reverse("api:cases"), "caseworker_api"),
        ("case_list_deep", f"{lists}?page=200", "caseworker"),
        ("case_list_filtered", f"{lists}?status=examination&nationality=RU", "caseworker"),
        ("case_list_sorted", f"{lists}?sort=deadline", "caseworker"),
        ("search_latin", f"{lists}?q=Hosseini", "caseworker"),
        ("search_cyrillic", f"{lists}?q=%D0%9A%D0%BE%D1%80%D0%BE%D0%BB%D1%91%D0%B2", "caseworker"),
        ("search_partial", f"{lists}?q=korol", "caseworker"),
        ("case_detail", reverse("cases:detail", args=[long_case]), "caseworker"),
        ("api_case_detail", reverse("api:case", args=[long_case]), "caseworker_api"),
        ("facilities", reverse("cases:facilities"), "caseworker"),
        ("admin_list", "/admin/cases/application/", "superuser"),
        ("floor_case_list", "/bench/floor/", "caseworker"),
    ]
    reports = [
        # The management reports, as a decision-maker of the largest unit (the default period:
        # the last twelve months) and, for all units at once, as the superuser.
        *(
            (f"report_{slug}", reverse("reports:report", args=[slug]), "decision_maker")
            for slug in REPORT_SLUGS
        ),
        (
            "report_backlog_weekly",
            f"{reverse('reports:report', args=['backlog'])}?step=week",
            "decision_maker",
        ),  # fmt: skip
        ("report_chart_backlog", reverse("reports:chart", args=["backlog"]), "decision_maker"),
        ("report_backlog_all", reverse("reports:report", args=["backlog"]), "superuser"),
        ("report_limits_all", reverse("reports:report", args=["limits"]), "superuser"),
    ]
    if REPORTS:
        pages.extend(reports)
    if ONLY:
        # The floor and the case list stay: every figure is read as a ratio to them.
        pages = [
            p
            for p in pages
            if p[0] in ("floor_case_list", "case_list")
            or any(fnmatch.fnmatchcase(p[0], pattern) for pattern in ONLY)
        ]
    decision_maker = (
        User.objects.filter(unit__name=largest, groups__name=roles.DECISION_MAKER)
        .order_by("pk")
        .first()
    )
    if decision_maker is None:
        sys.exit(f"No decision-maker of {largest!r} in {DATABASE}: rebuild it (drop the database).")
    # The API's rows: the same caseworker, with a bearer token of their own (replaced on each
    # run), on the same list and the same case as the pages.
    ApiToken.objects.filter(user=caseworker, name=BENCH_CLIENT_NAME).delete()
    token = ApiToken.issue(caseworker, name=BENCH_CLIENT_NAME, days=1)[1]
    clients = {
        "caseworker": signed_in_client(caseworker),
        "superuser": signed_in_client(superuser),
        "caseworker_api": Client(headers={"authorization": f"Bearer {token}"}),
        "decision_maker": signed_in_client(decision_maker),
    }
    counter = QueryCounter()
    times: dict[str, list[float]] = {name: [] for name, _u, _w in pages}
    times["sql_case_list"] = []
    queries: dict[str, set[int]] = {name: set() for name in times}
    say(
        f"Measuring in-process as {caseworker.username} ({largest}): {WARMUP} warm-up rounds, "
        f"then {REQUESTS} requests per page, round-robin ..."
    )

    def timed_get(name: str, url: str, who: str) -> float:
        """One request of a page, in ms (its queries in `counter.count`); any answer but 200
        stops the run."""
        counter.count = 0
        start = time.perf_counter_ns()
        response = clients[who].get(url)
        elapsed = time.perf_counter_ns() - start
        if response.status_code != 200:
            sys.exit(f"{name}: {url} answered {response.status_code}, not 200.")
        return _ms(elapsed)

    with connection.execute_wrapper(counter):
        for round_no in range(WARMUP + REQUESTS):
            for name, url, who in pages:
                elapsed = timed_get(name, url, who)
                if round_no >= WARMUP:
                    times[name].append(elapsed)
                    queries[name].add(counter.count)
            counter.count = 0
            start = time.perf_counter_ns()
            fetch_rows(caseworker.unit_id)
            elapsed = time.perf_counter_ns() - start
            if round_no >= WARMUP:
                times["sql_case_list"].append(_ms(elapsed))
                queries["sql_case_list"].add(counter.count)

    # The report pages once more, their figures computed on each request (as the first view
    # of a filter, or the first after a change of a case): `report_*_cold`.
    cold = [(name, url, who) for name, url, who in pages if name.startswith("report_")]
    if cold and COLD_REQUESTS:
        say(
            f"Measuring the report pages without the figures' cache (REPORT_CACHE_SECONDS=0): "
            f"{COLD_REQUESTS} requests per page, round-robin ..."
        )
        kept_seconds = settings.REPORT_CACHE_SECONDS
        settings.REPORT_CACHE_SECONDS = 0
        try:
            with connection.execute_wrapper(counter):
                for _round in range(COLD_REQUESTS):
                    for name, url, who in cold:
                        elapsed = timed_get(name, url, who)
                        times.setdefault(f"{name}_cold", []).append(elapsed)
                        queries.setdefault(f"{name}_cold", set()).add(counter.count)
        finally:
            settings.REPORT_CACHE_SECONDS = kept_seconds

    entries = []
    if meta.get("rebuild_report_rows_seconds"):
        seconds = float(meta["rebuild_report_rows_seconds"]) * 1000
        entries.append(
            {
                "page": "rebuild_report_rows",
                "cases": CASES,
                "median_ms": seconds,
                "p95_ms": seconds,
                "queries": 0,
                "requests": 1,
                "measured_at_build": meta.get("rebuild_report_rows_at", ""),
            }
        )
    for name, values in times.items():
        counts = sorted(queries[name])
        entries.append(
            {
                "page": name,
                "cases": CASES,
                "median_ms": round(statistics.median(values), 2),
                "p95_ms": round(_p95(values), 2),
                # The page's own count: a request that renews the session (at most once a
                # minute) runs one more, kept in queries_varied.
                "queries": counts[0],
                "requests": len(values),
                **({"queries_varied": counts} if len(counts) > 1 else {}),
            }
        )
    by = {e["page"]: e for e in entries}
    for api, ui in API_PAGES.items():
        if api in by and ui in by:
            by[api]["p95_ratio_to_ui"] = round(by[api]["p95_ms"] / by[ui]["p95_ms"], 2)
            by[api]["median_ratio_to_ui"] = round(by[api]["median_ms"] / by[ui]["median_ms"], 2)

    # The name search's queries, explained (is the trigram index used?).
    OUT.mkdir(parents=True, exist_ok=True)
    explain_lines = []
    for name in ("search_latin", "search_cyrillic", "search_partial"):
        url = {n: u for n, u, _w in pages}.get(name)
        if url is None:
            continue
        counter.keep, counter.statements = True, []
        with connection.execute_wrapper(counter):
            clients["caseworker"].get(url)
        counter.keep = False
        for sql, params in counter.statements:
            if "search_key" in sql or 'applicant_id" IN' in sql or "LIKE" in sql:
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                shown = sql if len(sql) < 600 else sql[:600] + " ..."
                explain_lines.append(f"-- {name}\n{shown}\n{plan}\n")
    explain_file = OUT / f"explain-search-{CASES}.txt"
    explain_file.write_text("\n".join(explain_lines), encoding="utf-8")
    say(f"EXPLAIN of the search queries: {explain_file.relative_to(ROOT)}")
    # Of each statement the search pages ran: how the cases were found, and its time.
    for entry in explain_lines:
        name, _sql, *plan = entry.splitlines()
        scans = [line.strip() for line in plan if "Scan" in line or "Execution Time" in line]
        say(f"  {name[3:]}: " + "; ".join(s.split("  (cost")[0].lstrip("-> ") for s in scans))

    from cases.models import CaseEvent

    extra = {
        "access_events_on_long_case": CaseEvent.objects.filter(
            application_id=long_case, kind=CaseEvent.Kind.ACCESS
        ).count(),
        "cookies": {
            who: client.cookies[settings.SESSION_COOKIE_NAME].value
            for who, client in clients.items()
            if settings.SESSION_COOKIE_NAME in client.cookies
        },
        "headers": {"caseworker_api": f"Authorization: Bearer {token}"},
        "urls": {name: (url, who) for name, url, who in pages},
    }
    return entries, extra


def measure_sweeps() -> list[dict[str, Any]]:
    """The deadline sweep, each run rolled back: the first sweep over the whole backlog
    (FIRST_SWEEP_RUNS times), then SWEEP_RUNS sweeps at a moment when SWEEP_DUE are due.
    Run after the pages and the throughput, as it takes longest at large sizes."""
    from django.db import connection, transaction

    from cases import reminders

    counter = QueryCounter()
    entries: list[dict[str, Any]] = []

    def timed_sweep(now: dt.datetime | None) -> tuple[float, int, int, int]:
        counter.count = 0
        with connection.execute_wrapper(counter), transaction.atomic():
            start = time.perf_counter_ns()
            result = reminders.sweep(
                now=now, enqueue=lambda *a: None, enqueue_digest=lambda *a: None
            )
            elapsed = _ms(time.perf_counter_ns() - start)
            transaction.set_rollback(True)
        return elapsed, result.due, result.created, counter.count

    def sweep_entry(page: str, runs: list[tuple[float, int, int, int]]) -> dict[str, Any]:
        ms = [r[0] for r in runs]
        due, created = runs[0][1], runs[0][2]
        return {
            "page": page,
            "cases": CASES,
            "median_ms": round(statistics.median(ms), 1),
            "p95_ms": round(max(ms), 1),
            "queries": max(r[3] for r in runs),
            "requests": len(runs),
            "due_deadlines": due,
            "reminders_created": created,
            "ms_per_due_deadline": round(statistics.median(ms) / max(due, 1), 3),
            "ms_per_reminder": round(statistics.median(ms) / max(created, 1), 4),
        }

    if FIRST_SWEEP_RUNS:
        say(f"First sweep over the whole backlog ({FIRST_SWEEP_RUNS}x, rolled back) ...")
        entries.append(sweep_entry("sweep", [timed_sweep(None) for _ in range(FIRST_SWEEP_RUNS)]))
        say(
            f"  {entries[-1]['due_deadlines']:,} due, {entries[-1]['reminders_created']:,} "
            f"reminders, {entries[-1]['median_ms'] / 1000:.1f} s"
        )
    # A rolled-back sweep leaves its reminders behind as dead rows (18 million after the first
    # sweep at a million cases), which the unique index still has to step over: clear them,
    # as autovacuum would in time, so the next sweeps measure the sweep and not that debris.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_reminder")
        cursor.execute("VACUUM ANALYZE cases_notification")
    moment = _moment_with_due(SWEEP_DUE)
    say(f"Sweeps at {moment:%Y-%m-%d %H:%M} UTC, when {SWEEP_DUE:,} deadlines are due ...")
    entries.append(
        {
            **sweep_entry(
                f"sweep_{SWEEP_DUE}_due", [timed_sweep(moment) for _ in range(SWEEP_RUNS)]
            ),
            "swept_at": moment.isoformat(timespec="seconds"),
        }
    )
    return entries


def measure_exports(env: dict[str, str]) -> list[dict[str, Any]]:
    """The whole case list exported as CSV and as XLSX, each in a process of its own
    (bench/export_memory.py), so that its peak resident memory is the export's."""
    entries = []
    for fmt in ("csv", "xlsx"):
        say(f"Export of every case as {fmt.upper()} (a process of its own) ...")
        done = subprocess.run(
            [PYTHON, "-m", "bench.export_memory", fmt],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        say(
            f"  {result['rows']:,} rows, {result['bytes'] / 1e6:.1f} MB in {result['seconds']} s; "
            f"peak memory {result['peak_mb']} MB (before the export {result['baseline_mb']} MB)"
        )
        entries.append(
            {
                "page": f"export_{fmt}",
                "cases": CASES,
                "median_ms": result["seconds"] * 1000,
                "p95_ms": result["seconds"] * 1000,
                "queries": 0,
                "requests": 1,
                **{k: result[k] for k in ("rows", "bytes", "baseline_mb", "peak_mb")},
            }
        )
    return entries


def _moment_with_due(target: int) -> dt.datetime:
    """The earliest moment (to the minute) at which a sweep finds `target` deadlines due,
    found by bisection over `reminders.count_due` (the count only grows with the moment)."""
    from django.utils import timezone

    from cases import reminders

    high = timezone.now()
    low = high - dt.timedelta(days=5 * 365)
    if reminders.count_due(high) < target:
        return high
    while (high - low) > dt.timedelta(minutes=1):
        middle = low + (high - low) / 2
        if reminders.count_due(middle) >= target:
            high = middle
        else:
            low = middle
    return high


# ------------------------------------------------------------------------------------------
# Throughput with gunicorn and wrk
# ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk() -> str | None:
    """wrk, installed from Debian's packages when missing (apt-get update only if needed)."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    say("Installing wrk (Debian package) ...")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    quiet = {"stdout": subprocess.DEVNULL, "check": False}
    if subprocess.run(install, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], **quiet)
        subprocess.run(install, **quiet)
    if shutil.which("wrk"):
        return shutil.which("wrk")
    say("wrk could not be installed: throughput is not measured.")
    return None


def measure_throughput(env: dict[str, str], extra: dict[str, Any]) -> dict[str, dict]:
    wrk = _wrk()
    if wrk is None:
        return {}
    port = _free_port()
    log = OUT / "gunicorn.log"
    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "haven.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--error-logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
    )
    results: dict[str, dict] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit(f"gunicorn did not start; see {log}")
                time.sleep(0.2)
        say(f"Throughput: gunicorn (2 workers) on port {port}, wrk {WRK_SECONDS} s per page ...")
        cookie_name = "sessionid"
        # The admin's list last: its requests of seconds each, still running in the workers
        # when wrk stops, would otherwise slow the page measured after it.
        pages = sorted(extra["urls"].items(), key=lambda item: item[0] == "admin_list")
        for name, (url, who) in pages:
            if who in extra["headers"]:
                header = extra["headers"][who]
            else:
                header = f"Cookie: {cookie_name}={extra['cookies'][who]}"
            key, value = header.split(": ", 1)
            request = urllib.request.Request(base + url, headers={key: value})
            opener = urllib.request.build_opener(_NoRedirect)
            for _ in range(3):  # warm both workers; a redirect means the session was refused
                try:
                    status = opener.open(request, timeout=60).status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                if status != 200:
                    sys.exit(f"{name}: gunicorn answered {status} for {url}, not 200.")
            completed = subprocess.run(
                [
                    wrk,
                    "-t1",
                    "-c4",
                    f"-d{WRK_SECONDS}s",
                    "--timeout",
                    "30s",
                    "-s",
                    str(ROOT / "bench" / "wrk_report.lua"),
                    "-H",
                    header,
                    base + url,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            line = next(
                (x for x in completed.stdout.splitlines() if x.startswith("BENCH_JSON ")), None
            )
            if line is None:
                say(f"  {name}: wrk failed: {completed.stderr.strip()[:300]}")
                continue
            data = json.loads(line.removeprefix("BENCH_JSON "))
            errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
            results[name] = {
                "rps": round(data["requests"] / (data["duration_us"] / 1e6), 1),
                "wrk_p50_ms": round(data["p50_us"] / 1000, 1),
                "wrk_p95_ms": round(data["p95_us"] / 1000, 1),
                "wrk_requests": data["requests"],
                "wrk_non2xx": data["non2xx"],
                "wrk_errors": errors,
                "wrk_seconds": WRK_SECONDS,
                "wrk_connections": 4,
            }
            r = results[name]
            say(
                f"  {name:<20} {r['rps']:>7.1f} req/s  p95 {r['wrk_p95_ms']:>7.1f} ms  "
                f"non-2xx {r['wrk_non2xx']}  errors {errors}"
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return results


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "postgresql": version,
        "python": platform.python_version(),
    }


def write_results(entries: list[dict[str, Any]]) -> None:
    """Replace this size's entries for the pages measured now; keep the rest (other sizes,
    and this size's sweeps when BENCH_FIRST_SWEEP_RUNS=0 skipped the long one)."""
    measured = {e["page"] for e in entries}
    kept: list[dict[str, Any]] = []
    if RESULTS.exists():
        try:
            kept = [
                e
                for e in json.loads(RESULTS.read_text())
                if e.get("cases") != CASES or e.get("page") not in measured
            ]
        except (ValueError, AttributeError, TypeError):
            kept = []
    merged = sorted([*kept, *entries], key=lambda e: (e["cases"],))
    RESULTS.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _cell(ms: float, width: int) -> str:
    """Milliseconds, or seconds past 100 s (a first sweep at a million cases)."""
    return f"{ms:>{width}.2f}" if ms < 100_000 else f"{ms / 1000:>{width - 2}.1f} s"


def print_table(entries: list[dict[str, Any]], info: dict[str, str]) -> None:
    say("")
    say(
        f"Haven benchmark: {CASES:,} cases; {info['cores']} cores, {info['memory']}, "
        f"PostgreSQL {info['postgresql']}, Python {info['python']}"
    )
    header = (
        f"{'page':<22}{'median ms':>10}{'p95 ms':>9}{'queries':>9}"
        f"{'req/s':>9}{'wrk p95':>9}{'non-2xx':>9}"
    )
    say(header)
    say("-" * len(header))
    for e in entries:
        rps = f"{e['rps']:.1f}" if "rps" in e else "—"
        wp95 = f"{e['wrk_p95_ms']:.1f}" if "wrk_p95_ms" in e else "—"
        bad = str(e["wrk_non2xx"] + e["wrk_errors"]) if "wrk_non2xx" in e else "—"
        extra = (
            f"  ({e['due_deadlines']:,} due, {e['reminders_created']:,} reminders)"
            if "due_deadlines" in e
            else ""
        )
        say(
            f"{e['page']:<22}{_cell(e['median_ms'], 10)}{_cell(e['p95_ms'], 9)}{e['queries']:>9}"
            f"{rps:>9}{wp95:>9}{bad:>9}{extra}"
        )
    by = {e["page"]: e for e in entries}
    say("")
    web = [e for e in entries if e["page"] not in ("sql_case_list", "admin_list")]
    pages = [e for e in web if not e["page"].startswith(("sweep", "export", "rebuild"))]
    # Issue 16's goals: p95 at most 30 ms at 100,000 cases and 50 ms at 1,000,000; under
    # wrk, each page at least 40% of the floor page's requests per second.
    goal = 30 if CASES <= 100_000 else 50
    slow = [e["page"] for e in pages if e["p95_ms"] > goal]
    say(f"Pages over {goal} ms p95 (the goal at {CASES:,} cases): {', '.join(slow) or 'none'}")
    floor_rps = by.get("floor_case_list", {}).get("rps")
    if floor_rps:
        few = [
            f"{e['page']} ({e['rps'] / floor_rps:.0%})"
            for e in pages
            if e.get("rps") and e["rps"] < 0.4 * floor_rps
        ]
        say(f"Pages under 40% of the floor page's req/s: {', '.join(few) or 'none'}")
    if "case_list" in by and "floor_case_list" in by:
        ratio = by["case_list"]["median_ms"] / by["floor_case_list"]["median_ms"]
        say(f"case_list / floor_case_list (median): {ratio:.2f}x (target at most 2.5x)")
    for api, ui in API_PAGES.items():
        if api in by and ui in by:
            say(
                f"{api} / {ui}: p95 {by[api]['p95_ms'] / by[ui]['p95_ms']:.2f}x, median "
                f"{by[api]['median_ms'] / by[ui]['median_ms']:.2f}x (target at most 1.5x)"
            )
    if "case_list" in by and "admin_list" in by:
        ratio = by["admin_list"]["median_ms"] / by["case_list"]["median_ms"]
        say(f"admin_list / case_list (median): {ratio:.1f}x (target at least 3x)")


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    env = bench_environment()
    os.environ.update(env)
    OUT.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()  # settings only: the first connection is made after the database exists
    meta = prepare_database(env)
    if REPORTS:
        meta = prepare_report_rows(env, meta)
    manage(env, "collectstatic", "--no-input", "-v0")
    entries, extra = measure_in_process(meta)
    say(
        f"Access events on the 200-event case so far (this run included): "
        f"{extra['access_events_on_long_case']:,}"
    )
    if WRK_SECONDS > 0:
        throughput = measure_throughput(env, extra)
        for entry in entries:
            entry.update(throughput.get(entry["page"], {}))
    info = machine()
    run = {
        "machine": f"{info['cores']} cores, {info['memory']}, PostgreSQL {info['postgresql']}",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
    }
    for entry in entries:
        entry.update(run)
    write_results(entries)  # the pages are kept even if the sweeps are interrupted
    from bench import mixed_load  # 20 sessions at once on one case: its own table and rows

    write_results([{**e, **run} for e in mixed_load.bench_step(env, cases=CASES)])
    exported = [{**e, **run} for e in (measure_exports(env) if EXPORTS else [])]
    entries.extend(exported)
    write_results(exported)
    for entry in measure_sweeps():
        entries.append({**entry, **run})
    print_table(entries, info)
    write_results(entries)
    say(f"Wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
