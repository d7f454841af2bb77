"""The Django admin for Haven.

Staff who are not superusers see exactly `visible_applications(user)` and what hangs off
those cases. The timeline, placements, deadlines, notes and documents are read-only here for
everyone: they change only through `cases.workflow`. No admin form carries `status`; the
transitions run through `workflow` from the application page (see `ApplicationAdmin`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition, FSMTransitionContext

from accounts import roles
from accounts.models import User
from haven.admin import moment_column, person_column, text_column

from . import access, workflow
from .forms import TRANSITION_FORMS, attach_errors, grounds_field
from .labels import person, transition_labels
from .models import (
    Appeal,
    Applicant,
    Application,
    CaseEvent,
    Deadline,
    DeadlineRule,
    Document,
    Facility,
    Note,
    Placement,
    SensitiveField,
    hidden_facts,
)
from .timeline import CAUSE_LABELS, TimelineBuilder
from .timeline_detention import DetentionRecords


class CaseScopedMixin:
    """Limits rows to those hanging off cases the user may see (superusers see all).

    `case_path` is the lookup from this model to its Application ("" for Application).
    """

    case_path = "application"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        visible = access.visible_applications(request.user).values("pk")
        if not self.case_path:
            return qs.filter(pk__in=visible)
        return qs.filter(**{f"{self.case_path}__in": visible}).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Drop-downs must not leak names of cases or people of other units.
        if not request.user.is_superuser:
            if db_field.related_model is Application:
                kwargs["queryset"] = access.visible_applications(request.user)
            elif db_field.related_model is Applicant:
                kwargs["queryset"] = Applicant.objects.filter(
                    applications__in=access.visible_applications(request.user)
                ).distinct()
            elif db_field.related_model is User and request.user.unit_id:
                kwargs["queryset"] = User.objects.filter(unit_id=request.user.unit_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(CaseScopedMixin, admin.ModelAdmin):
    """Rows written only by the workflow: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PlacementInline(ReadOnlyInline):
    model = Placement
    fields = (
        "facility",
        "regime",
        "alternative",
        "starts_at",
        "ends_at",
        "legal_basis",
        "court_order_until",
        "last_resort_reason",
    )
    readonly_fields = fields


class AppealInline(ReadOnlyInline):
    """Appeals, read-only: they are lodged and judged through the workflow (the case page's
    forms, the `appeal` transition)."""

    model = Appeal
    fields = (
        "subject",
        "level",
        "court",
        "court_case_number",
        "lodged_on",
        "suspensive_effect",
        "suspension",
        "judgment_on",
        "outcome",
    )
    readonly_fields = fields
    show_change_link = False


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = ("rule", "due_on", "status", "legal_reference")
    readonly_fields = fields


# Facts that change only through workflow functions (so that each change is on the timeline).
EXAMINATION_FIELDS = (
    "assigned_to",
    "interviewed_on",
    "interview_waiver_reason",
    # The personal interviews, shown read-only: they change through the workflow (the case
    # page's interview steps), which puts each change on the timeline.
    "interview_list",
    "decision_outcome",
    "decided_on",
    "served_on",
    "service_method",
    "service_language",
    "withdrawal",
    "next_deadline_at",
)
WORKFLOW_FIELDS = (
    "reference",
    "status",
    "status_changed_at",
    "unit",
    *EXAMINATION_FIELDS,
    "created_at",
    "updated_at",
)


class ApplicationAdminForm(forms.ModelForm):
    """The facts a superuser may correct (`workflow.CORRECTABLE_FIELDS`), and why.

    Saving runs `workflow.correct_record`, which re-computes the clocks of corrected dates;
    the checks it makes are made here first, so that a refused correction shows beside its
    field instead of failing after the form was accepted.
    """

    grounds = grounds_field()
    correction_reason = forms.CharField(
        label=_("Reason for the correction"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required when you change anything: it is recorded on the case's timeline with "
            "the old and new values."
        ),
    )

    class Meta:
        model = Application
        fields = workflow.CORRECTABLE_FIELDS

    def corrections(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in self.changed_data
            if name in workflow.CORRECTABLE_FIELDS and name in self.cleaned_data
        }

    def clean(self):
        cleaned = super().clean()
        changes = self.corrections()
        if changes and not (cleaned.get("correction_reason") or "").strip():
            self.add_error("correction_reason", _("Say why you correct the record."))
        if changes and self.instance.pk:
            try:
                # On a fresh copy of the row: the same checks the workflow makes.
                workflow.apply_correction(Application.objects.get(pk=self.instance.pk), changes)
            except ValidationError as exc:
                attach_errors(self, exc)
        return cleaned

    def _post_clean(self) -> None:
        # The model is saved by `workflow.correct_record`, which validates it under the row
        # lock; the form does not write its values into the instance.
        pass


@admin.register(Application)
class ApplicationAdmin(FSMAdminMixin, CaseScopedMixin, admin.ModelAdmin):
    """Applications, with their transitions as buttons.

    django-fsm-2's admin would call the model's transition method and save, bypassing the
    workflow; here every button opens the transition's form (data, reason, the status the
    user saw) and runs `workflow.<transition>`, so the admin changes a case exactly as the
    caseworker UI does: locked, checked, on the timeline.
    """

    case_path = ""
    form = ApplicationAdminForm
    fsm_fields = ["status"]
    fsm_forms = TRANSITION_FORMS
    change_form_template = "admin/cases/application/change_form.html"
    list_display = (
        "reference",
        text_column(Application, "applicant"),
        "status",
        # The procedure is one of the filters beside the list, and on the case's page.
        text_column(Application, "unit"),
        person_column(Application, "assigned_to"),
        "submitted_on",
        moment_column(Application, "next_deadline_at"),
    )
    list_filter = ("status", "procedure", "submission_authority", "unit")
    search_fields = ("reference", "applicant__family_name", "applicant__given_names")
    list_select_related = ("applicant", "unit", "assigned_to")
    readonly_fields = WORKFLOW_FIELDS
    inlines = (PlacementInline, AppealInline, DeadlineInline)
    date_hierarchy = "submitted_on"
    fieldsets = (
        (None, {"fields": ("reference", "applicant", "status", "status_changed_at", "unit")}),
        (
            _("Application"),
            {"fields": tuple(f for f in workflow.CORRECTABLE_FIELDS if f != "applicant")},
        ),
        (
            _("Examination and decision (changed through transitions)"),
            {"fields": EXAMINATION_FIELDS},
        ),
        (_("Detention in court"), {"fields": ("detention_history",)}),
    )

    def has_add_permission(self, request) -> bool:
        # Cases are opened through the intake, which runs the workflow and starts the clocks.
        return False

    # ---- corrections through the workflow -------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser corrects the record (`workflow.correct_record`); other staff read
        # it here and run transitions from its buttons.
        if request.user.is_superuser:
            return (*WORKFLOW_FIELDS, "detention_history")
        return (
            *WORKFLOW_FIELDS,
            *workflow.CORRECTABLE_FIELDS,
            "grounds_names",
            "detention_history",
        )

    @admin.display(description=_("court orders, reviews and appeals on detention"))
    def detention_history(self, obj) -> str:
        """The detention's records in court, oldest first, as the case page lists them
        (written only by the workflow)."""
        if obj is None or obj.pk is None:
            return "—"
        records = DetentionRecords.of(obj)
        lines = [
            (
                _("Extension") if o.is_extension else _("First order"),
                f"{o.court}, {o.case_number}: {date_format(localtime(o.ordered_at), 'Y-m-d H:i')}"
                f" – {o.until.isoformat()}",
            )
            for o in records.orders
        ]
        lines += [
            (_("Review"), f"{r.reviewed_on.isoformat()}, {r.reviewed_by}: {r.get_result_display()}")
            for r in records.reviews
        ]
        lines += [
            (
                _("Appeal against detention"),
                f"{a.lodged_on.isoformat()}, {a.court} {a.case_number}".strip()
                + (f": {a.get_result_display()}" if a.result else ""),
            )
            for a in records.appeals
        ]
        if not lines:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}: {}", lines)

    @admin.display(description=_("grounds"))
    def grounds_names(self, obj) -> str:
        return "; ".join(obj.get_grounds_display()) or "—"

    @admin.display(description=_("personal interviews"))
    def interview_list(self, obj) -> str:
        rows = obj.interviews.select_related("interviewer").order_by("scheduled_at", "pk")
        return (
            format_html_join(
                "",
                "<div>{} — {} ({}): {}</div>",
                (
                    (
                        timezone.localtime(i.scheduled_at).strftime("%Y-%m-%d %H:%M"),
                        person(i.interviewer),
                        i.language,
                        i.get_status_display(),
                    )
                    for i in rows
                ),
            )
            or "—"
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not request.user.is_superuser:
            # Read, not corrected: the grounds by their translated names, not their codes.
            fieldsets = tuple(
                (
                    name,
                    {
                        **opts,
                        "fields": tuple(
                            "grounds_names" if f == "grounds" else f for f in opts["fields"]
                        ),
                    },
                )
                for name, opts in fieldsets
            )
        if request.user.is_superuser and obj is not None:
            fieldsets = (*fieldsets, (_("Correction"), {"fields": ("correction_reason",)}))
        return fieldsets

    # ---- transitions through the workflow -----------------------------------------------

    def _get_fsm_extra_context(self, *, request, obj):
        if obj is None:
            return
        allowed = [
            FSMTransitionContext(name=o.name, label=o.label, help_text=o.help_text)
            for o in workflow.available_transitions(obj, request.user)
            if o.allowed
        ]
        if allowed:
            yield FSMObjectTransition(
                fsm_field="status", block_label=str(_("Transitions")), available_transitions=allowed
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if obj is not None:
            if request.method == "GET":
                access.log_access(obj, request.user, request, what="admin")
            context["blocked_transitions"] = [
                o for o in workflow.available_transitions(obj, request.user) if not o.allowed
            ]
            context["timeline_url"] = (
                reverse("admin:cases_caseevent_changelist") + f"?application__id__exact={obj.pk}"
            )
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _get_fsm_transition_func(self, *, obj, transition_name):
        if transition_name not in TRANSITION_FORMS:
            raise Http404(_("There is no such transition."))
        return super()._get_fsm_transition_func(obj=obj, transition_name=transition_name)

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:
        # Every transition has a form; this path (calling the model directly) is never taken.
        self.message_user(request, _("Use the transition's form."), level=messages.ERROR)
        return False

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form_class = TRANSITION_FORMS.get(transition_name)
        if form_class is None:
            raise Http404(_("There is no such transition."))
        change_url = reverse("admin:cases_application_change", args=[obj.pk])
        refusal = workflow.blocked_reason(obj, transition_name, request.user)
        if refusal and request.method != "POST":
            self.message_user(request, refusal, level=messages.ERROR)
            return redirect(change_url)
        transition = self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)
        form = form_class(request.POST or None, case=obj)
        if request.method == "POST" and form.is_valid():
            try:
                workflow.TRANSITIONS[transition_name](
                    obj.pk,
                    actor=request.user,
                    expected_status=form.cleaned_data["expected_status"],
                    **form.workflow_kwargs(),
                )
            except workflow.WorkflowError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return redirect(change_url)
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                self.message_user(
                    request,
                    _("%(transition)s: done, and recorded on the timeline.")
                    % {"transition": self.get_fsm_label(transition)},
                    level=messages.SUCCESS,
                )
                return redirect(change_url)
        return render(
            request,
            self.fsm_transition_form_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": obj,
                "transition": FSMTransitionContext(
                    name=transition_name,
                    label=self.get_fsm_label(transition),
                    help_text=self.get_help_text(transition),
                ),
                "transition_form": form,
            },
            status=400 if form.is_bound else 200,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Never saves the row itself: a correction goes through `workflow.correct_record`
        (a superuser, a reason, one event, the clocks re-computed)."""
        changes = form.corrections()
        if change and changes:
            corrected = workflow.correct_record(
                obj.pk,
                actor=request.user,
                reason=form.cleaned_data["correction_reason"],
                **changes,
            )
            obj.refresh_from_db()
            obj.updated_at = corrected.updated_at


@admin.register(Applicant)
class ApplicantAdmin(CaseScopedMixin, admin.ModelAdmin):
    case_path = "applications"
    list_display = ("family_name", "given_names", "name_original", "nationality", "date_of_birth")
    list_filter = ("nationality", "sex", "military_status")
    search_fields = ("family_name", "given_names", "name_original", "search_key")
    readonly_fields = ("created_at",)

    def get_exclude(self, request, obj=None):
        # Hidden sensitive facts are not shown here (the admin has no recorded reveal), but
        # to superusers, who correct records.
        excluded = list(super().get_exclude(request, obj) or ())
        if not request.user.is_superuser:
            excluded += [
                fact.partition(".")[2] for fact in hidden_facts() if fact.startswith("applicant.")
            ]
        return excluded or None

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SensitiveField)
class SensitiveFieldAdmin(admin.ModelAdmin):
    """Which facts pages, lists, exports and the API hide until revealed: administrators
    and superusers decide (data, not code)."""

    list_display = ("fact", "hidden", "note", "changed_at")
    list_editable = ("hidden",)
    readonly_fields = ("changed_at",)

    def _may(self, request) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or user.has_role(roles.ADMINISTRATOR))

    def has_module_permission(self, request) -> bool:
        return self._may(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may(request)

    def has_add_permission(self, request) -> bool:
        return self._may(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may(request)


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "operator", "capacity", "occupied", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code", "operator")
    ordering = ("name",)  # the admin's autocomplete pages through facilities: a stable order

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_occupied=Count("placements", filter=Q(placements__ends_at__isnull=True)))
        )

    @admin.display(description=_("occupied now"), ordering="_occupied")
    def occupied(self, obj) -> int:
        return obj._occupied

    def has_delete_permission(self, request, obj=None) -> bool:
        # Facilities with placements are protected by the database; retire them instead.
        return request.user.is_superuser and (obj is None or not obj.placements.exists())


class TimeUnitFilter(admin.ChoicesFieldListFilter):
    """The rule's unit of time (hours, days, months), not to be read as an office."""

    def __init__(self, field, request, params, model, model_admin, field_path) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("time unit")


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    # Whether a rule moves off weekends and its reminder lead times are on its page.
    list_display = (
        "code",
        "name",
        "start_event",
        "stop_event",
        "duration",
        "time_unit",
        "applies",
        "is_active",
    )
    list_filter = ("start_event", ("unit", TimeUnitFilter), "is_active")
    search_fields = ("code", "name", "legal_source")

    @admin.display(description=_("time unit"), ordering="unit")
    def time_unit(self, obj) -> str:
        return obj.get_unit_display()

    @admin.display(description=_("applies (key date)"), ordering="applies_from")
    def applies(self, obj) -> str | None:
        """The key dates the rule applies to, in one column: "from", "until", or both."""
        start, end = (
            format_html('<span class="nowrap">{}</span>', date_format(day)) if day else None
            for day in (obj.applies_from, obj.applies_until)
        )
        if start and end:
            return format_html("{} – {}", start, end)
        if start:
            return format_html(_("from {date}"), date=start)
        if end:
            return format_html(_("until {date}"), date=end)
        return None

    def get_readonly_fields(self, request, obj=None):
        # Deadlines point at rules by code: a rule's code is fixed once it exists.
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = (
        "application",
        text_column(Placement, "facility"),
        "regime",
        "alternative",
        "starts_at",
        "ends_at",
        "review_due",
    )
    list_filter = ("regime", "alternative", "facility")
    list_select_related = ("application", "facility")
    search_fields = ("application__reference",)


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = (
        "application",
        text_column(Deadline, "rule", length=60),
        "due_on",
        "due_at",
        "status",
        "closed_at",
    )
    list_filter = ("status", "rule")
    list_select_related = ("application", "rule")
    search_fields = ("application__reference",)
    date_hierarchy = "due_on"


class EventKindFilter(admin.SimpleListFilter):
    """The event list's kinds, without access events unless asked: who opened a case would
    otherwise bury the timeline. Keeps the parameter of Django's own field filter."""

    title = _("kind")
    parameter_name = "kind__exact"
    EVERYTHING = "all"

    def lookups(self, request, model_admin):
        return CaseEvent.Kind.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset.exclude(kind=CaseEvent.Kind.ACCESS)
        if value == self.EVERYTHING:
            return queryset
        return queryset.filter(kind=value)

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All but access events"),
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(value),
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }
        yield {
            "selected": self.value() == self.EVERYTHING,
            "query_string": changelist.get_query_string({self.parameter_name: self.EVERYTHING}),
            "display": _("All, access events included"),
        }


# An event's action as a reader names it, for the event list (one dictionary, no query).
DEADLINE_ACTIONS = {
    "opened": _("Deadline opened"),
    "met": _("Deadline met"),
    "missed": _("Deadline missed"),
    "waived": _("Deadline waived"),
    "cancelled": _("Deadline cancelled"),
    "corrected": _("Deadline corrected"),
}
RECORD_ACTIONS = {
    "note_added": _("Note added"),
    "document_added": _("Document added"),
    "placed": _("Placed"),
    "ended": _("Placement ended"),
    "assigned": _("Assigned"),
    "case": _("Viewed the case"),
    "form": _("Opened a form on the case"),
    "document": _("Downloaded a document"),
}


def action_name(kind: str, action: str) -> str:
    """An event's action as a reader names it."""
    if kind == CaseEvent.Kind.DEADLINE:
        return str(DEADLINE_ACTIONS.get(action, action))
    return str(
        transition_labels().get(action)
        or CAUSE_LABELS.get(action)
        or RECORD_ACTIONS.get(action)
        or DEADLINE_ACTIONS.get(action)
        or action
    )


class EventActionFilter(admin.SimpleListFilter):
    """The event list's "by action" filter, named as the column names them. Its choices are
    the actions Haven writes (from the labels above), not a DISTINCT over the whole timeline,
    which would read every event of a national caseload on each visit."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = {
            *transition_labels(),
            *CAUSE_LABELS,
            *RECORD_ACTIONS,
            *DEADLINE_ACTIONS,
        }
        named = {action: action_name("", action) for action in actions}
        return sorted(named.items(), key=lambda item: item[1].casefold())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "application",
        "kind",
        "action_label",
        person_column(CaseEvent, "actor"),
        "status_change",
    )
    # The details as the case page writes them, not the stored JSON.
    exclude = ("data",)
    readonly_fields = ("what",)

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj) -> str:
        return action_name(obj.kind, obj.action)

    @admin.display(description=_("status change"), ordering="to_status")
    def status_change(self, obj) -> str | None:
        if not (obj.from_status or obj.to_status):
            return None
        return f"{obj.get_from_status_display() or '—'} → {obj.get_to_status_display() or '—'}"

    @admin.display(description=_("details"))
    def what(self, obj) -> str:
        case = obj.application
        row = TimelineBuilder(
            case,
            [obj],
            notes=case.notes.all(),
            documents=case.documents.all(),
            placements=case.placements.all(),
            document_url=lambda d: reverse("cases:document", args=[d.application_id, d.pk]),
        ).rows()[0]
        return " · ".join(str(part) for part in (row["title"], row["details"]) if part)

    list_filter = (EventKindFilter, EventActionFilter)
    list_select_related = ("application", "actor")
    search_fields = ("application__reference",)
    date_hierarchy = "at"

    def get_queryset(self, request):
        # Who viewed a case is for decision-makers and administrators (DESIGN.md), here too.
        qs = super().get_queryset(request)
        user = request.user
        if user.is_superuser or any(
            user.has_role(r) for r in (roles.ADMINISTRATOR, roles.DECISION_MAKER)
        ):
            return qs
        return qs.exclude(kind=CaseEvent.Kind.ACCESS)


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ("application", person_column(Note, "author"), "created_at")
    list_select_related = ("application", "author")
    search_fields = ("application__reference",)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "title", "kind", "application", "size", "uploaded_at")
    list_select_related = ("application",)
    search_fields = ("application__reference", "original_name")
    exclude = ("file",)
    readonly_fields = ("download",)

    @admin.display(description=_("file"))
    def download(self, obj) -> str:
        # Never link to the storage path: only the access-checked, logged view serves files.
        url = reverse("cases:document", args=[obj.application_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))


# Reminders and notifications (their admin lives beside the sending code).
from . import admin_notifications  # noqa: E402, F401
