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
