"""Where a page's time goes, on the benchmark database: cProfile and each query's own time.

    BENCH_CASES=100000 .venv/bin/python -m bench.profile dashboard case_detail facilities

Uses the database `make bench` built (`haven_bench_<BENCH_CASES>`; run `make bench` first)
with the same settings (DEBUG off, persistent connections) and the same users (a caseworker
of the largest synthetic unit; for the decision-maker's dashboard, a decision-maker of it).
Each page named (all of them without arguments) is requested BENCH_WARMUP times, then
BENCH_REQUESTS times under cProfile, with every query timed through
`connection.execute_wrapper`. Writes var/bench/profile-<page>-<cases>.txt: the median time,
the queries by total time (with one EXPLAIN ANALYZE of the slowest), and the functions by
cumulative and by own time.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from urllib.parse import quote

from bench.run import CASES, DATABASE, OUT, ROOT, _env_int, _meta, bench_environment

REQUESTS = _env_int("BENCH_REQUESTS", 30, minimum=1)
WARMUP = _env_int("BENCH_WARMUP", 5, minimum=1)


class QueryTimer:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.params: dict[str, object] = {}

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times[sql].append((time.perf_counter_ns() - start) / 1e6)
            self.params[sql] = params


def pages(long_case: int) -> dict[str, str]:
    from django.urls import reverse

    lists = reverse("cases:list")
    return {
        "dashboard": reverse("cases:dashboard"),
        "dashboard_decision_maker": reverse("cases:dashboard"),
        "case_list": lists,
        "case_list_sorted": f"{lists}?sort=deadline",
        "search_latin": f"{lists}?q=Hosseini",
        "search_cyrillic": f"{lists}?q={quote('Королёв')}",
        "search_partial": f"{lists}?q=korol",
        "case_detail": reverse("cases:detail", args=[long_case]),
        "facilities": reverse("cases:facilities"),
        "floor_case_list": "/bench/floor/",
    }


# Where a function's own time is counted, by the file it is in (first match wins). The
# standard library's and the interpreter's built-in functions (getattr, str.join, gettext,
# json) are counted where they were called from.
COMPONENTS = (
    ("/psycopg", "database: driver and waiting for PostgreSQL"),
    ("/django/db/", "Django ORM: building, compiling, model instances"),
    ("/django/template", "Django templates"),
    ("/django/forms/", "Django forms and widgets"),
    ("/django/", "Django: request, middleware, sessions, auth, i18n"),
    ("site-packages", "other libraries (OTP, axes, history, whitenoise, ...)"),
    (str(ROOT), "Haven's own code"),
)


def _component(filename: str) -> str | None:
    for marker, label in COMPONENTS:
        if marker in filename:
            return label
    return None  # the standard library or a built-in: counted where it was called from


def components(profiler: cProfile.Profile) -> str:
    """The profile's own time summed per component, the standard library's and built-ins'
    time passed on to their callers in proportion to the time each call took."""
    stats = pstats.Stats(profiler).stats  # {func: (cc, nc, tt, ct, {caller: (.., .., tt, ..)})}
    totals: dict[str, float] = defaultdict(float)

    def charge(func, seconds: float, depth: int) -> None:
        label = _component(func[0])
        callers = stats.get(func, (0, 0, 0, 0, {}))[4]
        if label is None and depth < 8 and callers:
            spent = sum(c[2] for c in callers.values()) or 1.0
            for caller, c in callers.items():
                charge(caller, seconds * c[2] / spent, depth + 1)
            return
        totals[label or "standard library, uncalled-for"] += seconds

    for func, (_cc, _nc, tt, _ct, _callers) in stats.items():
        charge(func, tt, 0)
    whole = sum(totals.values()) or 1.0
    return "".join(
        f"{seconds * 1000 / REQUESTS:8.1f}  {seconds / whole:4.0%}  {label}\n"
        for label, seconds in sorted(totals.items(), key=lambda kv: -kv[1])
    )


def profile(client, name: str, url: str) -> str:
    from django.db import connection

    for _ in range(WARMUP):
        assert client.get(url).status_code == 200, url
    timer = QueryTimer()
    profiler = cProfile.Profile()
    elapsed = []
    with connection.execute_wrapper(timer):
        for _ in range(REQUESTS):
            start = time.perf_counter_ns()
            profiler.enable()
            response = client.get(url)
            profiler.disable()
            elapsed.append((time.perf_counter_ns() - start) / 1e6)
            assert response.status_code == 200, url
    out = io.StringIO()
    total_sql = sum(sum(v) for v in timer.times.values()) / REQUESTS
    out.write(
        f"{name} ({url}) at {CASES:,} cases: {REQUESTS} requests, median "
        f"{statistics.median(elapsed):.1f} ms (under cProfile), "
        f"SQL {total_sql:.1f} ms a request\n\n"
        "Queries by time per request (ms), slowest first:\n"
    )
    ranked = sorted(timer.times.items(), key=lambda kv: -sum(kv[1]))
    for sql, times in ranked:
        out.write(f"{sum(times) / REQUESTS:8.2f}  x{len(times) / REQUESTS:g}  {sql[:300]}\n")
    if ranked:
        sql = ranked[0][0]
        if sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", timer.params[sql])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            out.write(f"\nEXPLAIN ANALYZE of the slowest:\n{plan}\n")
    out.write(f"\nOwn time by component (ms a request, under cProfile):\n{components(profiler)}")
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(45)
        out.write(f"\nFunctions by {order}:\n{text.getvalue()}")
    return out.getvalue()


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.update(bench_environment())
    meta = _meta(DATABASE)
    if meta.get("complete") != "true":
        sys.exit(f"{DATABASE} is missing or unfinished: run `BENCH_CASES={CASES} make bench`.")
    import django

    django.setup()
    from accounts import roles
    from accounts.models import User
    from bench.signin import signed_in_client
    from loadgen import world as synthetic

    caseworker = (
        User.objects.filter(unit__name=synthetic.UNITS[0][0], groups__name=roles.CASEWORKER)
        .order_by("pk")
        .first()
    )
    decision_maker = (
        User.objects.filter(unit__name=synthetic.UNITS[0][0], groups__name=roles.DECISION_MAKER)
        .order_by("pk")
        .first()
    )
    # Each page as `make bench` measures it: the decision-maker's dashboard as a
    # decision-maker of the same unit, every other page as its caseworker.
    clients = {
        "caseworker": signed_in_client(caseworker),
        "decision_maker": signed_in_client(decision_maker),
    }
    urls = pages(int(meta["long_case_id"]))
    names = sys.argv[1:] or list(urls)
    unknown = [n for n in names if n not in urls]
    if unknown:
        sys.exit(f"Unknown pages {unknown}: choose from {', '.join(urls)}.")
    OUT.mkdir(parents=True, exist_ok=True)
    label = os.environ.get("BENCH_PROFILE_LABEL", "")
    for name in names:
        who = "decision_maker" if name.endswith("_decision_maker") else "caseworker"
        report = profile(clients[who], name, urls[name])
        path = OUT / f"profile-{name}-{CASES}{'-' + label if label else ''}.txt"
        path.write_text(report, encoding="utf-8")
        print(report.split("\n", 1)[0], f"-> {path.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
