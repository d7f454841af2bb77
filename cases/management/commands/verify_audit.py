"""Check that every case's timeline is the one Haven wrote.

Each case's events form a hash chain (`cases.audit`). This command walks every chain (or one
case's, with `--case`) in batches of cases, names the first broken event of each broken
chain (case reference, event id, what is wrong) and exits with a non-zero status when any
chain is broken, so that it can run from cron or CI and alert.

A chain that falls short of its last checkpoint (`cases.checkpoints`: its newest events were
removed, which the links alone cannot show) is broken too: "events after event N were
removed".

Reasons redacted by retention are not tampering: they are reported as "redacted by retention
event N". `-v2` shows progress.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.audit import ChainReport
from cases.checkpoints import describe, verify
from cases.models import Application
from haven import ops


class Command(BaseCommand):
    help = (
        "Verify the hash chains of case timelines and their checkpoints; exit non-zero if any "
        "chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--case",
            action="append",
            dest="references",
            metavar="REF",
            help="Check only this case (its reference, e.g. LT-2023-000001); repeatable.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Cases checked per batch (default 500).",
        )

    def handle(self, *args, references: list[str] | None, batch_size: int, **options) -> None:
        verbosity = options["verbosity"]
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        cases = Application.objects.order_by("pk")
        if references:
            references = [ref.strip() for ref in references]
            found = set(cases.filter(reference__in=references).values_list("reference", flat=True))
            missing = [ref for ref in references if ref not in found]
            if missing:
                raise CommandError(
                    _("No case with reference %(refs)s.") % {"refs": ", ".join(missing)}
                )
            cases = cases.filter(reference__in=references)
        total = cases.count()

        checked = events = broken = redacted = 0
        last_pk = 0
        while True:
            batch = list(cases.filter(pk__gt=last_pk).values_list("pk", "reference")[:batch_size])
            if not batch:
                break
            last_pk = batch[-1][0]
            reference_of = dict(batch)
            for report in verify([pk for pk, _ref in batch]):
                ref = reference_of[report.application_id]
                checked += 1
                events += report.events
                redacted += len(report.redacted)
                if report.redacted and verbosity >= 1:
                    self._report_redactions(ref, report)
                if report.problem is not None:
                    broken += 1
                    self.stderr.write(self._describe(ref, report))
            if verbosity >= 2:
                self.stdout.write(
                    _("Checked %(done)s of %(total)s cases…") % {"done": checked, "total": total}
                )

        summary = _("Checked %(cases)s, %(events)s.") % {
            "cases": ngettext("%(n)s case", "%(n)s cases", checked) % {"n": checked},
            "events": ngettext("%(n)s event", "%(n)s events", events) % {"n": events},
        }
        if redacted:
            summary += " " + ngettext(
                "%(n)s reason redacted by retention.",
                "%(n)s reasons redacted by retention.",
                redacted,
            ) % {"n": redacted}
        if not references:  # a check of every case: /metrics reports its result
            ops.record_quietly(
                ops.AUDIT, {"at": time.time(), "problems": broken, "by": "verify_audit"}
            )
        if broken:
            self.stdout.write(summary)
            raise CommandError(
                ngettext(
                    "%(n)s broken chain: the timeline was altered outside Haven.",
                    "%(n)s broken chains: the timelines were altered outside Haven.",
                    broken,
                )
                % {"n": broken}
            )
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(summary + " " + _("Every chain is intact.")))

    def _describe(self, reference: str, report: ChainReport) -> str:
        return _("BROKEN %(ref)s: %(problem)s") % {
            "ref": reference,
            "problem": describe(report.problem),
        }

    def _report_redactions(self, reference: str, report: ChainReport) -> None:
        by_retention: dict[int, list[int]] = {}
        for event_id, retention_id in report.redacted:
            by_retention.setdefault(retention_id, []).append(event_id)
        for retention_id, event_ids in by_retention.items():
            self.stdout.write(
                ngettext(
                    "%(ref)s: event %(events)s redacted by retention event %(retention)s",
                    "%(ref)s: events %(events)s redacted by retention event %(retention)s",
                    len(event_ids),
                )
                % {
                    "ref": reference,
                    "events": ", ".join(str(pk) for pk in event_ids),
                    "retention": retention_id,
                }
            )
