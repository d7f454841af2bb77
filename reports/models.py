"""What was exported: one `Export` row per file (who, when, which list and filter, how many
rows) and one `ExportedCase` link per case in it, so that a case's access log shows every
export that contained it.

One export of 100,000 cases is one row and 100,000 links written by a single
`INSERT ... SELECT` (`reports.exports.record_export`), not 100,000 access events: an access
event takes the case's locks and extends its hash chain one case at a time (see LOCK ORDER
in `cases.audit`), which would hold a large export for minutes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from cases.models import Application


class Export(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    list_name = models.CharField(_("list"), max_length=40)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    query = models.TextField(_("filter"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.list_name}.{self.format} ({self.rows})"


class ExportedCase(models.Model):
    """A case that was in an export. The key (case, export) is the index a case's access
    log reads."""

    pk = models.CompositePrimaryKey("application", "export")
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="+", db_constraint=True
    )
    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="cases")

    class Meta:
        verbose_name = _("exported case")
        verbose_name_plural = _("exported cases")

    def __str__(self) -> str:
        return f"{self.export_id}:{self.application_id}"


# ------------------------------------------------------------------------------------------
# Daily aggregate rows for the management reports (filled by `reports.folding`)
# ------------------------------------------------------------------------------------------


class ReportRow(models.Model):
    """One figure of the reports: a sum kept per day, unit, procedure and nationality, and
    per the report's own key. What `kind` each report reads, and what its columns mean:

    - `status`: open cases entering (+1) and leaving (-1) `key` (a status) on `day`; the
      open cases in a status at the end of a day are the sum up to that day.
    - `stage`: cases that left the status `key` on `day` after `days` whole days in it.
    - `decision`: first-instance decisions with outcome `key` taken on `day`.
    - `deadline`: deadlines of rule `key` due on `day` (the legal date), in status `sub`
      (open ones move to met, missed, waived or cancelled when they close).
    - `place`: people placed (+1) and leaving (-1) facility `key` (its id) in regime `sub`.
    - `open`: open cases assigned to `key` (a user id, "0" for nobody) now: only today's
      count is read, so its rows are all dated `folding.NO_DAY` (one row per key).
    - `due`: open deadlines due on `day` of cases assigned to `key` (as for `open`).
    - `age`: open cases in status `key` whose application was made on `day` (+1 when a
      case enters an open status, -1 when it leaves it): the open cases of each age today
      are the sums per day, whatever day they are read on.

    Every row is also summed over all procedures and nationalities (rows whose procedure and
    nationality are `folding.ALL`, "*"), and kinds read over long periods per week, month and
    year (`folding.ROLLUPS`: kind `status:w`, `status:m`, `status:y`, dated the first day of
    it), so that a report reads O(periods x keys) rows (`reports.figures.summed`), not
    every day of the history in every procedure and nationality.
    """

    kind = models.CharField(max_length=12)
    day = models.DateField()
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    procedure = models.CharField(max_length=20, blank=True)
    nationality = models.CharField(max_length=2, blank=True)
    key = models.CharField(max_length=50)
    sub = models.CharField(max_length=20, blank=True)
    days = models.IntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("report figure")
        verbose_name_plural = _("report figures")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "day", "unit", "procedure", "nationality", "key", "sub", "days"],
                name="reportrow_one_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["kind", "unit", "day"], name="reportrow_kind_unit_day_idx"),
            models.Index(fields=["kind", "day"], name="reportrow_kind_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.key}/{self.sub}: {self.value}"


class ReportCase(models.Model):
    """What the report rows know of one case: its status since when, its dimensions, its
    assignee, its open deadlines and placements, and the last event folded in. Events of a
    case are written one at a time under the case's chain lock, so their ids grow in commit
    order within a case: an event is folded exactly when its id is above `last_event`."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_event = models.BigIntegerField(default=0)
    facts = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("case in the reports")
        verbose_name_plural = _("cases in the reports")

    def __str__(self) -> str:
        return f"{self.application_id} @ {self.last_event}"


class ReportCursor(models.Model):
    """How far the catch-up task has read the timeline (one row, id 1): every event up to
    `through_event` has been offered to the folding (the folding itself skips those a
    workflow change already folded)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    through_event = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("report catch-up position")
        verbose_name_plural = _("report catch-up position")

    def __str__(self) -> str:
        return str(self.through_event)
