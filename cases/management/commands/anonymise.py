"""Anonymise the personal data of cases that ended before a date (the retention policy).

    python manage.py anonymise --closed-before 2021-01-01 --dry-run
    python manage.py anonymise --closed-before 2021-01-01

A case is due when it is closed or withdrawn and its final transition happened before the
date (in Haven's time zone). Each due case is anonymised in its own transaction, as
described in `cases.retention`; the timeline gains a `retention` event and stays verifiable
(`verify_audit` reports the redacted reasons as redaction). Running it again changes nothing
that is already anonymised. `--dry-run` lists what would change and writes nothing. The
output names cases by reference and counts what changes; it never prints personal data.

Each case's timeline is verified first (`verify_audit`'s checks). A case whose timeline is
broken is not anonymised: it is named on stderr with the problem and left exactly as it is,
so that the evidence of tampering survives (a dry run names it too). Exit status: 0 when
every due case was anonymised or had nothing left to change; 3 when a case was skipped
because its timeline is broken (investigate with `verify_audit --case REF`); 1 when a case
failed for another reason and was rolled back (run again after fixing the cause).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases import checkpoints, retention
from cases.audit import ChainProblem
from cases.models import Application

# Exit status when a case was skipped because its timeline is broken: distinct from 1 (a case
# failed and can be retried) and 2 (a usage error), so that a scheduler can alert on it.
EXIT_BROKEN_TIMELINE = 3


def _parse_date(raw: str) -> dt.date:
    raw = (raw or "").strip()
    try:
        if not (raw.isascii() and len(raw) == 10 and raw[4] == "-" and raw[7] == "-"):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            _(
                "--closed-before must be a date written YYYY-MM-DD (for example "
                "2021-01-01), not %(raw)r."
            )
            % {"raw": raw}
        ) from None


class Command(BaseCommand):
    help = "Replace personal data in cases closed or withdrawn before a date with pseudonyms."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--closed-before",
            required=True,
            metavar="DATE",
            help="Anonymise cases whose final transition happened before this date (YYYY-MM-DD).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would change; write nothing.",
        )

    def handle(self, *args, closed_before: str, dry_run: bool, **options) -> None:
        verbosity = options["verbosity"]
        date = _parse_date(closed_before)
        if date > timezone.localdate():
            raise CommandError(
                _("--closed-before %(date)s is in the future: give a date up to today.")
                % {"date": date.isoformat()}
            )

        changed = unchanged = failed = 0
        broken: list[str] = []
        for batch in retention.due_case_ids(date):
            problems = retention.broken_timelines(batch) if dry_run else {}
            for pk in batch:
                if pk in problems:
                    reference = Application.objects.values_list("reference", flat=True).get(pk=pk)
                    broken.append(reference)
                    self._report_broken(reference, problems[pk], dry_run=dry_run)
                    continue
                if dry_run:
                    case = Application.objects.select_related("applicant").get(pk=pk)
                    plan = retention.plan_case(case, date)
                    if plan.is_empty():
                        unchanged += 1
                        continue
                    changed += 1
                    if verbosity >= 1:
                        self.stdout.write(
                            _("%(ref)s: would anonymise %(what)s")
                            % {"ref": plan.reference, "what": plan.summary()}
                        )
                    continue
                try:
                    plan = retention.anonymise_case(pk, date)
                except retention.BrokenTimeline as exc:
                    broken.append(exc.reference)
                    self._report_broken(exc.reference, exc.problem, dry_run=dry_run)
                    continue
                except Exception as exc:  # noqa: BLE001 - one case's failure must not stop the rest
                    failed += 1
                    reference = (
                        Application.objects.filter(pk=pk)
                        .values_list("reference", flat=True)
                        .first()
                    )
                    self.stderr.write(
                        _("%(ref)s: not anonymised (its changes were rolled back): %(error)s")
                        % {"ref": reference or pk, "error": type(exc).__name__}
                    )
                    # The message may quote a row's values (personal data): only on request.
                    if verbosity >= 2:
                        self.stderr.write(f"  {exc}")
                    continue
                if plan is None:
                    unchanged += 1
                    continue
                changed += 1
                if verbosity >= 1:
                    self.stdout.write(
                        _("%(ref)s: anonymised %(what)s")
                        % {"ref": plan.reference, "what": plan.summary()}
                    )

        if verbosity >= 1:
            done = (
                ngettext(
                    "%(n)s case would be anonymised",
                    "%(n)s cases would be anonymised",
                    changed,
                )
                if dry_run
                else ngettext("%(n)s case anonymised", "%(n)s cases anonymised", changed)
            ) % {"n": changed}
            skipped = (
                " "
                + ngettext(
                    "%(n)s case skipped: its timeline is broken.",
                    "%(n)s cases skipped: their timelines are broken.",
                    len(broken),
                )
                % {"n": len(broken)}
                if broken
                else ""
            )
            self.stdout.write(
                _("%(done)s; %(same)s already anonymised (cases that ended before %(date)s).")
                % {"done": done, "same": unchanged, "date": date.isoformat()}
                + skipped
                + (" " + _("Dry run: nothing was written.") if dry_run else "")
            )
        errors = []
        if broken:
            errors.append(
                ngettext(
                    "%(n)s case was left as it is because its timeline is broken (%(refs)s): "
                    "check it with verify_audit --case before anonymising it.",
                    "%(n)s cases were left as they are because their timelines are broken "
                    "(%(refs)s): check them with verify_audit --case before anonymising them.",
                    len(broken),
                )
                % {"n": len(broken), "refs": ", ".join(broken)}
            )
        if failed:
            errors.append(
                ngettext(
                    "%(n)s case could not be anonymised; run again after fixing the cause.",
                    "%(n)s cases could not be anonymised; run again after fixing the cause.",
                    failed,
                )
                % {"n": failed}
            )
        if errors:
            raise CommandError(" ".join(errors), returncode=EXIT_BROKEN_TIMELINE if broken else 1)

    def _report_broken(self, reference: str, problem: ChainProblem, *, dry_run: bool) -> None:
        message = (
            _("%(ref)s: would be left as it is: its timeline is broken (%(problem)s)")
            if dry_run
            else _("%(ref)s: not anonymised, left as it is: its timeline is broken (%(problem)s)")
        )
        self.stderr.write(message % {"ref": reference, "problem": checkpoints.describe(problem)})
