"""Synthetic cases for benchmarks and load tests, loaded into PostgreSQL with COPY.

`loadgen.loader.generate(count, seed=...)` (and `manage.py generate_cases`) writes `count`
realistic cases: applicants with Latin and Cyrillic names (passport spelling, other
romanisations as aliases), every status, placements at reception and detention facilities,
deadlines opened, met, missed and cancelled as the rules in the database say, timelines of
5 to 50 events (one case of exactly 200), units of different sizes with caseworkers and
decision-makers, assignments.

Everything generated is marked: references start with `SYN-`, units, facilities and users
are named "SYN ..." / `syn-...`, and every claim summary says the case is synthetic.

The modules, from the edge inwards:
- `loader`: `generate()`, the run over all cases, foreign keys, triggers and sequences;
- `rows`: one case as rows of the loaded tables, its events chained;
- `story`: which states one case passes through, on which days;
- `casefile`: one case's rows, built by the workflow's own rules (the state machine on
  `cases.models.Application`, `cases.deadlines`, `cases.audit`);
- `world`: units, staff and facilities; `names`: who the applicants are;
- `copywriter`: COPY's text format and the thread that streams it.

This package imports the domain app (`cases`); nothing in `cases` imports it.
"""
