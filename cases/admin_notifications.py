"""The Django admin of reminders and notifications (imported by `cases.admin`).

Administrators see every reminder with its attempts and last error, and can retry sending
the ones that failed ("retry sending" gives them a fresh set of attempts and enqueues them
on commit). Rows are written only by the sweep and the sends: nothing is added or edited
here. Staff who are not superusers see the reminders of the cases they may see
(`access.visible_applications`), and only their own notifications.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from haven.admin import clipped, person_column, text_column

from . import access, reminders
from .labels import data_text
from .models import Notification, Reminder


class SentFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [
            ("unsent", _("Not sent yet")),
            ("failed", _("Failed (an error is recorded)")),
            ("sent", _("Sent")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "unsent":
            return queryset.filter(sent_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(sent_at__isnull=True).exclude(last_error="")
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        return queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = (
        "case",
        "rule",
        "due_on",
        "level_display",
        person_column(Reminder, "recipient"),
        # When the sweep created it is on its page; when it went out is here.
        "sent_at",
        "attempts",
        "error",
    )
    list_filter = (SentFilter, "level")
    list_select_related = ("deadline__application", "deadline__rule", "recipient")
    search_fields = ("deadline__application__reference", "recipient__username")
    date_hierarchy = "created_at"
    actions = ("retry_sending",)
    readonly_fields = (
        "deadline",
        "level",
        "recipient",
        "created_at",
        "claimed_at",
        "sent_at",
        "attempts",
        "last_error",
    )

    def get_queryset(self, request) -> QuerySet[Reminder]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        visible = access.visible_applications(request.user).values("pk")
        return qs.filter(deadline__application__in=visible)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is read-only; the permission still gates the retry action.
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("case"), ordering="deadline__application__reference")
    def case(self, obj: Reminder) -> str:
        return obj.deadline.application.reference

    @admin.display(description=_("deadline"), ordering="deadline__rule__name")
    def rule(self, obj: Reminder) -> str:
        return data_text(obj.deadline.rule.name)

    @admin.display(description=_("due on"), ordering="deadline__due_on")
    def due_on(self, obj: Reminder):
        return obj.deadline.due_on

    @admin.display(description=_("level"), ordering="level")
    def level_display(self, obj: Reminder) -> str:
        return obj.level_label()

    @admin.display(description=_("last error"))
    def error(self, obj: Reminder) -> str:
        return clipped(obj.last_error, 60)

    @admin.action(description=_("Retry sending the selected reminders"), permissions=["change"])
    def retry_sending(self, request, queryset: QuerySet[Reminder]) -> None:
        count = reminders.retry(queryset.values_list("pk", flat=True))
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d reminder will be sent again.",
                    "%(count)d reminders will be sent again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, _("The selected reminders were already sent."), messages.WARNING
            )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        person_column(Notification, "recipient"),
        "kind",
        text_column(Notification, "text"),
        "read_at",
        "emailed_at",
    )
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    search_fields = ("recipient__username", "text")
    date_hierarchy = "created_at"

    def get_queryset(self, request) -> QuerySet[Notification]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(recipient=request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
