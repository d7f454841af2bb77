"""Forms of the caseworker UI: they check the shape of the input, nothing more.

Whether a change is allowed, and every rule that needs the case's state (a free place in the
facility, dates against the application, an interview on record), is decided by
`cases.workflow`; its `ValidationError`s are put back onto these forms beside the fields they
name (`attach_errors`). `status` is never a form field; a transition form carries the status the
user saw (`expected_status`) so that a stale page is refused instead of acting on a case that
changed meanwhile.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.forms.models import fields_for_model
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import User

from . import workflow
from .models import (
    Appeal,
    Applicant,
    Application,
    DetentionAppeal,
    DetentionReview,
    Document,
    Facility,
    FamilyLink,
    Interview,
    Occupancy,
    Placement,
    kept_by_triggers,
)
from .staff import staff_choices, staff_html, staff_queryset
from .validators import validate_past_date
from .workflow.procedures import CHANNELS, HOME_STATE

VILNIUS = ZoneInfo("Europe/Vilnius")
TEXT_LIMIT = 10_000
REASON_LIMIT = 5_000


# What a form's empty HTML depends on, besides its ids, its initial choice codes and the
# language (`empty_form_html` keeps it as long as that holds): nothing, the case's unit's
# staff list, the facilities it offers with their places free now (its `facility` field), or
# the case itself (rendered on each page).
FIXED, STAFF, PLACES, CASE = "fixed", "staff", "places", "case"


class Form(forms.Form):
    """Labels without a trailing colon: cleaner beside stacked fields, and what screen-reader
    users hear."""

    empty_html = FIXED

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TimeInput(forms.TimeInput):
    """A native time picker (24-hour where the browser's locale is); sent as HH:MM."""

    input_type = "time"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class DateInput(forms.DateInput):
    """A native date picker; the value travels as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=DateInput, help_text=help_text or ""
    )


def reason_field(label=None, help_text=None, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        help_text=help_text
        if help_text is not None
        else _("Recorded on the case's timeline with your name."),
        max_length=REASON_LIMIT,
        required=required,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def attach_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a workflow `ValidationError` onto `form`: beside the field it names when the form
    has that field, else at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item)
    else:
        form.add_error(None, error)


class StaffChoices(forms.models.ModelChoiceIterator):
    """The field's choices from the cached staff list (`cases.staff`); the field's queryset
    still judges what is sent."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from staff_choices(self.field.unit_id)

    def __len__(self) -> int:
        return len(staff_choices(self.field.unit_id)) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(staff_choices(self.field.unit_id))


class CaseworkerChoiceField(forms.ModelChoiceField):
    """One of a unit's active caseworkers and decision-makers (`for_unit` says which)."""

    iterator = StaffChoices
    unit_id: int | None = None

    def for_unit(self, unit_id: int | None) -> None:
        self.unit_id = unit_id
        self.queryset = staff_queryset(unit_id)  # sets the widget's choices too

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


# ------------------------------------------------------------------------------------------
# Transitions
# ------------------------------------------------------------------------------------------


class TransitionForm(Form):
    """The data of one transition, a required reason and the status the user saw."""

    expected_status = forms.CharField(widget=forms.HiddenInput, max_length=20)

    def __init__(self, *args, case: Application, **kwargs) -> None:
        self.case = case
        kwargs.setdefault("initial", {}).setdefault("expected_status", case.status)
        super().__init__(*args, **kwargs)
        self.fields["reason"] = reason_field()

    def workflow_kwargs(self) -> dict[str, Any]:
        """The keyword arguments for `workflow.<transition>` beyond actor and status."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("expected_status",)
        }


class StartExaminationForm(TransitionForm):
    assignee = CaseworkerChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Keep as it is (or me, if nobody is assigned)"),
    )

    def __init__(self, *args, case: Application, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["assignee"].for_unit(case.unit_id)


class ListedChoices(forms.models.ModelChoiceIterator):
    """The choices read by one plain query. Django's iterator reads them through
    `QuerySet.iterator()`, a server-side cursor on PostgreSQL (declared, fetched and closed:
    three round trips), which is meant for long lists; a handful of facilities is not one."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class FacilityChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices

    def label_from_instance(self, obj: Facility) -> str:
        free = max(obj.capacity - obj.taken, 0)
        if free == 0:
            return str(_("%(name)s — full (%(capacity)s places)")) % {
                "name": obj.name,
                "capacity": obj.capacity,
            }
        return str(_("%(name)s — %(free)s of %(capacity)s places free")) % {
            "name": obj.name,
            "free": free,
            "capacity": obj.capacity,
        }


def _with_places_taken(kinds: list[str]):
    """Active facilities of these kinds with their places taken now, in one query: from the
    stored occupancy on PostgreSQL (a handful of rows, not every placement ever made, which
    at a national caseload cost the case page most of a second), else counted."""
    facilities = Facility.objects.filter(is_active=True, kind__in=kinds).order_by("name")
    if not kept_by_triggers():
        return facilities.annotate(
            taken=Count("placements", filter=Q(placements__ends_at__isnull=True))
        )
    # Written out: the same subquery built from ORM expressions cost the case page (whose
    # alternative to detention lists these facilities) twice as long as reading its rows.
    stored = (
        f"COALESCE((SELECT SUM(o.people) FROM {Occupancy._meta.db_table} o "  # noqa: S608
        f"WHERE o.facility_id = {Facility._meta.db_table}.id), 0)"
    )
    return facilities.annotate(taken=RawSQL(stored, []))  # noqa: S611 - table names only


def detention_facilities():
    """Facilities that hold detainees, with their places taken now (one query)."""
    return _with_places_taken([Facility.Kind.DETENTION, Facility.Kind.MIXED])


class DetainForm(TransitionForm):
    facility = FacilityChoiceField(
        label=_("Facility"),
        queryset=Facility.objects.none(),
        help_text=_("Detention and mixed facilities, with their free places now."),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=300,
        help_text=_("Act and article, e.g. Law on the Legal Status of Aliens, Art. 113."),
    )
    order_reference = forms.CharField(label=_("Order reference"), max_length=100)
    ordering_authority = forms.CharField(label=_("Ordered by"), max_length=200, required=False)
    last_resort_reason = forms.CharField(
        label=_("Why detention is a last resort"),
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The applicant is an unaccompanied minor: detention only in exceptional "
            "circumstances, when no less coercive measure can be applied. Shown on the "
            "case page and its timeline."
        ),
    )

    def __init__(self, *args, case: Application, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["facility"].queryset = detention_facilities()
        if not case.is_unaccompanied_minor():
            del self.fields["last_resort_reason"]


def reception_facilities():
    """Facilities of open accommodation (reception and mixed), with their places taken now
    (one query)."""
    return _with_places_taken([Facility.Kind.RECEPTION, Facility.Kind.MIXED])


class ReleaseForm(TransitionForm):
    released_on = date_field(_("Released on"), required=False, help_text=_("Empty: released now."))
    facility = FacilityChoiceField(
        label=_("Where the person goes"),
        queryset=Facility.objects.none(),
        required=False,
        empty_label=_("No placement: the person leaves the facility"),
        help_text=_("Open accommodation at a reception facility, or none."),
    )

    def __init__(self, *args, case: Application, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("released_on", timezone.localdate())
        super().__init__(*args, case=case, **kwargs)
        self.fields["reason"].label = _("Reason for release")
        self.fields["facility"].queryset = reception_facilities()
        # The reason last, after the facts.
        self.order_fields(["released_on", "facility", "reason"])


class DecideForm(TransitionForm):
    outcome = forms.ChoiceField(
        label=_("Decision"), choices=[("", "—"), *Application.Outcome.choices]
    )
    decided_on = date_field(_("Decided on"))
    served_on = date_field(
        _("Served on"),
        required=False,
        help_text=_(
            "Leave empty if the decision is not yet served; the appeal window runs from service."
        ),
    )
    inadmissibility_ground = forms.ChoiceField(
        label=_("Ground of inadmissibility"),
        choices=[("", "—"), *Application.InadmissibilityGround.choices],
        required=False,
        help_text=_("Only for an inadmissibility decision, which must name its ground."),
    )
    return_decision_reference = forms.CharField(
        label=_("Return decision reference"),
        max_length=100,
        required=False,
        help_text=_("If a return decision follows a negative decision."),
    )


def suspensive_field(required: bool = False) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Suspensive effect"),
        choices=[("", _("Not known yet")), *Appeal.Suspensive.choices],
        required=required,
        help_text=_("Whether the appeal suspends the decision: by law, or on request."),
    )


class AppealFactsForm(Form):
    """The facts of an appeal as it is lodged, at either level."""

    court = forms.CharField(
        label=_("Court"),
        max_length=200,
        help_text=_(
            "The regional administrative court, e.g. Vilnius Regional Administrative Court."
        ),
    )
    court_case_number = forms.CharField(
        label=_("Court case number"), max_length=100, required=False
    )
    lodged_on = date_field(_("Appeal lodged on"))
    suspensive_effect = suspensive_field()
    late_reason = forms.CharField(
        label=_("Reason for a late appeal"),
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only needed if the appeal was lodged after the appeal window closed."),
    )


class AppealForm(TransitionForm, AppealFactsForm):
    pass


class RemitForm(TransitionForm):
    judgment_final_on = date_field(_("Judgment final on"))


class CloseForm(TransitionForm):
    pass


class WithdrawForm(TransitionForm):
    kind = forms.ChoiceField(
        label=_("Kind of withdrawal"),
        choices=Application.Withdrawal.choices,
        widget=forms.RadioSelect,
    )


class ReopenForm(TransitionForm):
    def __init__(self, *args, case: Application, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["reason"].label = _("The applicant's request to reopen")


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "start_examination": StartExaminationForm,
    "detain": DetainForm,
    "release": ReleaseForm,
    "decide": DecideForm,
    "appeal": AppealForm,
    "remit": RemitForm,
    "close": CloseForm,
    "withdraw": WithdrawForm,
    "reopen": ReopenForm,
}


# ------------------------------------------------------------------------------------------
# Actions that change no state
# ------------------------------------------------------------------------------------------


class CaseForm(Form):
    """A form whose choices come from the case (its interviews, its documents, its unit's
    workers). `interviews`, `documents`: the case's rows when the caller has them already
    (the case page reads them for its own panels)."""

    empty_html = CASE

    def __init__(self, *args, case: Application, interviews=None, documents=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self._interviews = interviews
        self._documents = documents

    def interviews(self) -> list[Interview]:
        if self._interviews is None:
            self._interviews = list(
                self.case.interviews.select_related("interviewer").order_by("scheduled_at")
            )
        return self._interviews

    def documents(self, kind: str) -> list[Document]:
        """The case's documents of `kind`, the latest uploaded first."""
        if self._documents is None:
            return list(self.case.documents.filter(kind=kind).order_by("-uploaded_at", "-id"))
        rows = [d for d in self._documents if d.kind == kind]
        return sorted(rows, key=lambda d: (d.uploaded_at, d.pk), reverse=True)

    def scheduled_choices(self, empty: str) -> list[tuple[Any, str]]:
        rows = [i for i in self.interviews() if i.is_scheduled]
        return [("", empty), *((i.pk, interview_text(i)) for i in rows)]


def interview_text(interview: Interview) -> str:
    """An interview as a choice names it: its time, interviewer and language."""
    who = interview.interviewer.get_full_name() or interview.interviewer.username
    when = timezone.localtime(interview.scheduled_at).strftime("%Y-%m-%d %H:%M")
    return f"{when} — {who} ({interview.language})"


def row_choice_field(label, *, required: bool, help_text: str = "") -> forms.TypedChoiceField:
    """A choice among rows of the case (its choices set by the form), sent as the row's id."""
    return forms.TypedChoiceField(
        label=label,
        coerce=int,
        empty_value=None,
        required=required,
        help_text=help_text,
    )


def interview_field(*, required: bool, help_text: str = "") -> forms.TypedChoiceField:
    return row_choice_field(_("Scheduled interview"), required=required, help_text=help_text)


def moment_in_vilnius(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=VILNIUS)


class InterviewForm(CaseForm):
    interview = interview_field(
        required=False,
        help_text=_("The interview held, if it was scheduled here; empty: record the date only."),
    )
    interviewed_on = date_field(
        _("Interview held on"),
        required=False,
        help_text=_("Empty for a scheduled interview: the day it was scheduled for."),
    )
    record = row_choice_field(
        _("Interview record"),
        required=False,
        help_text=_("Upload it first as a document of the type “Interview record”."),
    )
    waiver_reason = forms.CharField(
        label=_("Or: reason the interview was waived"),
        max_length=REASON_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        held = [i for i in self.interviews() if i.status == Interview.Status.HELD]
        self.fields["interview"].choices = [
            *self.scheduled_choices("—"),
            *((i.pk, interview_text(i)) for i in held),
        ]
        self.fields["record"].choices = [
            ("", "—"),
            *((d.pk, d.display_name) for d in self.documents(Document.Kind.INTERVIEW_RECORD)),
        ]

    def clean(self):
        data = super().clean()
        if (
            not self.errors
            and not data.get("interview")
            and not data.get("interviewed_on")
            and not data.get("waiver_reason")
        ):
            self.add_error(
                "interviewed_on", _("Give the interview's date or the reason it was waived.")
            )
        return data


class ScheduleInterviewForm(CaseForm):
    empty_html = STAFF  # empty, it shows nothing of the case but its unit's interviewers
    on = date_field(_("Date"))
    time = forms.TimeField(label=_("Time"), widget=TimeInput)
    interviewer = CaseworkerChoiceField(label=_("Interviewer"), queryset=User.objects.none())
    language = forms.CharField(
        label=_("Language of the interview"),
        max_length=100,
        help_text=_("The language the applicant is interviewed in, for example “Russian”."),
    )
    interpreter = forms.CharField(
        label=_("Interpreter"), max_length=200, required=False, help_text=_("Name, if any.")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interviewer"].for_unit(self.case.unit_id)

    def workflow_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "scheduled_at": moment_in_vilnius(data["on"], data["time"]),
            "interviewer": data["interviewer"],
            "language": data["language"],
            "interpreter": data["interpreter"],
        }


class RescheduleInterviewForm(ScheduleInterviewForm):
    empty_html = CASE  # the case's scheduled interviews
    interview = interview_field(required=True)
    reason = reason_field(_("Reason for the new time"))

    field_order = ["interview", "on", "time", "interviewer", "language", "interpreter", "reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interview"].choices = self.scheduled_choices("—")
        for name in ("interviewer", "language", "interpreter"):
            self.fields[name].required = False
            self.fields[name].help_text = _("Empty: as before.")

    def workflow_kwargs(self) -> dict[str, Any]:
        return {
            **super().workflow_kwargs(),
            "interview": self.cleaned_data["interview"],
            "reason": self.cleaned_data["reason"],
        }


class CancelInterviewForm(CaseForm):
    interview = interview_field(required=True)
    reason = reason_field(_("Reason for cancelling"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interview"].choices = self.scheduled_choices("—")


class CourtOrderForm(Form):
    court = forms.CharField(label=_("Court"), max_length=200)
    case_number = forms.CharField(label=_("Court case number"), max_length=100)
    order_on = date_field(_("Order of"))
    order_time = forms.TimeField(
        label=_("Time of the order"),
        required=False,
        widget=TimeInput,
        help_text=_("24-hour, Vilnius time, if known: the 48-hour limit is met at it."),
    )
    until = date_field(
        _("Detention authorised until"),
        help_text=_(
            "A later order of another case number, or of another day, is recorded as an "
            "extension; the same number on the same day corrects the order."
        ),
    )


class DetentionReviewForm(Form):
    reviewed_on = date_field(_("Reviewed on"))
    reviewed_by = forms.CharField(label=_("Reviewed by (court or authority)"), max_length=200)
    result = forms.ChoiceField(
        label=_("Result"), choices=DetentionReview.Result.choices, widget=forms.RadioSelect
    )
    reason = reason_field(
        required=False,
        help_text=_("Required when the review ends the detention: the person is released."),
    )


class DetentionAppealForm(Form):
    lodged_on = date_field(_("Appeal lodged on"))
    court = forms.CharField(label=_("Court"), max_length=200)
    case_number = forms.CharField(label=_("Court case number"), max_length=100, required=False)


class DetentionAppealResultForm(Form):
    result = forms.ChoiceField(
        label=_("Court's result"),
        choices=DetentionAppeal.Result.choices,
        widget=forms.RadioSelect,
    )
    decided_on = date_field(_("Decided on"))
    reason = reason_field(
        required=False,
        help_text=_("Required when the court ended the detention: the person is released."),
    )


class AlternativeForm(Form):
    """An alternative to detention; it carries the status the user saw, like a transition
    (applied to a detainee it is a release)."""

    empty_html = PLACES  # the reception facilities with their places free now

    expected_status = forms.CharField(widget=forms.HiddenInput, max_length=20)
    measure = forms.ChoiceField(
        label=_("Alternative to detention"),
        choices=Placement.Alternative.choices,
        widget=forms.RadioSelect,
    )
    facility = FacilityChoiceField(
        label=_("Where the person lives"),
        queryset=Facility.objects.none(),
        help_text=_("A reception facility; the person takes one of its places."),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=300,
        help_text=_("Act and article, e.g. Law on the Legal Status of Aliens, Art. 115."),
    )
    order_reference = forms.CharField(label=_("Order reference"), max_length=100, required=False)
    ordering_authority = forms.CharField(label=_("Ordered by"), max_length=200, required=False)
    reason = reason_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = reception_facilities()


class EndAlternativeForm(Form):
    ended_on = date_field(_("Ended on"), required=False, help_text=_("Empty: ended now."))
    reason = reason_field(_("Reason for ending it"))


class ServiceForm(Form):
    served_on = date_field(_("Decision served on"))
    method = forms.ChoiceField(
        label=_("Method of service"),
        choices=[("", "—"), *Application.ServiceMethod.choices],
    )
    language = forms.CharField(
        label=_("Language of service"),
        max_length=100,
        required=False,
        help_text=_("The language the decision was translated or explained in."),
    )


class AppealSubjectForm(Form):
    """Which decision's appeal a step records: the decision on the application unless the
    page says otherwise (a hidden field)."""

    subject = forms.ChoiceField(
        choices=Appeal.Subject.choices,
        initial=Appeal.Subject.ASYLUM_DECISION,
        required=False,
        widget=forms.HiddenInput,
    )

    def clean_subject(self) -> str:
        return self.cleaned_data.get("subject") or Appeal.Subject.ASYLUM_DECISION


class JudgmentForm(AppealSubjectForm):
    """The judgment on the appeal that awaits one (first instance or further appeal)."""

    judgment_on = date_field(_("Judgment of"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *Appeal.Outcome.choices])


class FurtherAppealForm(AppealSubjectForm, AppealFactsForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].initial = _("Supreme Administrative Court of Lithuania")
        self.fields["court"].help_text = ""
        self.fields["lodged_on"].label = _("Further appeal lodged on")
        self.fields["late_reason"].help_text = _(
            "Only needed if the time for a further appeal has passed."
        )


class TransferDecisionForm(Form):
    served_on = date_field(_("Transfer decision served on"))


class SuspensiveEffectForm(Form):
    appeal = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    effect = forms.ChoiceField(
        label=_("Suspensive effect"), choices=Appeal.Suspensive.choices, widget=forms.RadioSelect
    )
    granted = forms.TypedChoiceField(
        label=_("The court's answer to a request"),
        choices=[("", _("Not decided yet")), ("yes", _("Granted")), ("no", _("Refused"))],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
    )
    decided_on = date_field(_("Answered on"), required=False)


class UpToDateForm(Form):
    reason = reason_field(
        _("What you recorded"),
        _(
            "Which current facts you recorded (corrections, transitions, notes). From now on "
            "the case's clocks are live: overdue limits count and remind."
        ),
    )


class WaiveDeadlineForm(Form):
    reason = reason_field(_("Reason for waiving"))


# ------------------------------------------------------------------------------------------
# Records of the procedures (issue 17): channelling, Dublin, the person, implicit withdrawal
# ------------------------------------------------------------------------------------------


class ChannelForm(Form):
    procedure = forms.ChoiceField(
        label=_("Procedure"),
        choices=[(code, text) for code, text in Application.Procedure.choices if code in CHANNELS],
    )
    reason = reason_field(_("Reason for the procedure"))


class ExtendAdmissibilityForm(Form):
    reason = reason_field(_("Reason for the extension"))


class MissedInterviewForm(CaseForm):
    interview = interview_field(
        required=False, help_text=_("The interview missed, if it was scheduled here.")
    )
    missed_on = date_field(
        _("Interview missed on"),
        required=False,
        help_text=_(
            "The applicant did not come and gave no reason. Empty for a scheduled interview: "
            "the day it was scheduled for."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interview"].choices = self.scheduled_choices("—")

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("interview") and not data.get("missed_on"):
            self.add_error("missed_on", _("Give the date of the missed interview."))
        return data


class VulnerabilityForm(Form):
    assessed_on = date_field(_("Assessed on"))
    categories = forms.MultipleChoiceField(
        label=_("Special needs found"),
        choices=Application.Vulnerability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: no special needs were found."),
    )
    assessor = forms.CharField(label=_("Assessed by"), max_length=200)


def member_states() -> list[tuple[str, str]]:
    return [("", "—"), *((code, name) for code, name in countries if code != HOME_STATE)]


class StartDublinForm(Form):
    reason = reason_field(_("Why the Dublin procedure (for example a Eurodac hit)"))


class DublinRequestForm(Form):
    kind = forms.ChoiceField(
        label=_("Request"), choices=Application.DublinRequest.choices, widget=forms.RadioSelect
    )
    requested_state = forms.ChoiceField(label=_("Requested Member State"), choices=member_states)
    sent_on = date_field(_("Sent on"))


class DublinReplyForm(Form):
    accepted = forms.TypedChoiceField(
        label=_("Reply"),
        choices=[("yes", _("Accepted")), ("no", _("Refused"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    replied_on = date_field(_("Reply of"))


class AcceptByDefaultForm(Form):
    confirm = forms.BooleanField(
        label=_("No reply came within the requested State's time limit"),
        help_text=_("Recorded as acceptance; the transfer period runs from the limit's last day."),
    )


class ResponsibilityForm(Form):
    responsible_state = forms.ChoiceField(
        label=_("Member State responsible"),
        choices=lambda: [("", "—"), *countries],
    )
    determined_on = date_field(_("Determined on"))
    reason = reason_field(required=False)


class TransferExtensionForm(Form):
    ground = forms.ChoiceField(
        label=_("Ground"),
        choices=Application.TransferExtension.choices,
        widget=forms.RadioSelect,
    )
    reason = reason_field()


class TransferForm(Form):
    transferred_on = date_field(_("Transferred on"))


class SubsequentApplicationForm(Form):
    submitted_on = date_field(_("Subsequent application made on"))
    lodged_on = date_field(_("Lodged on"), required=False)
    reason = reason_field(
        _("New elements"),
        _("What the applicant presents that is new; recorded on the new case's timeline."),
    )


class AgeAssessmentForm(Form):
    method = forms.ChoiceField(
        label=_("Method"), choices=[("", "—"), *Application.AgeMethod.choices]
    )
    assessed_on = date_field(_("Age assessed on"))
    result = forms.ChoiceField(
        label=_("Result"), choices=[("", "—"), *Application.AgeResult.choices]
    )
    benefit_of_doubt = forms.BooleanField(
        label=_("Benefit of the doubt applied (the applicant is treated as a minor)"),
        required=False,
    )
    unaccompanied = forms.BooleanField(
        label=_("Unaccompanied (no adult responsible for the applicant is present)"),
        required=False,
    )


class RepresentativeForm(Form):
    name = forms.CharField(label=_("Guardian or representative"), max_length=200)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    appointed_on = date_field(_("Appointed on"))
    appointed_by = forms.CharField(label=_("Appointed by (authority)"), max_length=200)


class LegalRepresentativeForm(Form):
    name = forms.CharField(label=_("Legal representative"), max_length=200)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    contact = forms.CharField(
        label=_("Contact (telephone, e-mail or address)"), max_length=300, required=False
    )


def relative_reference_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=_("Family member's case reference"),
        max_length=32,
        required=required,
        help_text=_("The reference of the family member's own case, e.g. LT-2023-000012."),
    )


def relation_field(required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("The family member is the applicant's"),
        choices=[("", "—"), *FamilyLink.Relation.choices],
        required=required,
    )


class FamilyLinkForm(Form):
    """A family member's case, by reference, and what they are to this case's applicant."""

    relative_reference = relative_reference_field()
    relation = relation_field()


class FamilyUnlinkForm(Form):
    link = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    reason = reason_field(label=_("Why remove this family link"))


ACTION_FORMS: dict[str, type[forms.Form]] = {
    "interview_schedule": ScheduleInterviewForm,
    "interview_reschedule": RescheduleInterviewForm,
    "interview_cancel": CancelInterviewForm,
    "interview": InterviewForm,
    "court_order": CourtOrderForm,
    "detention_review": DetentionReviewForm,
    "detention_appeal": DetentionAppealForm,
    "detention_appeal_result": DetentionAppealResultForm,
    "alternative": AlternativeForm,
    "end_alternative": EndAlternativeForm,
    "service": ServiceForm,
    "judgment": JudgmentForm,
    "further_appeal": FurtherAppealForm,
    "suspensive_effect": SuspensiveEffectForm,
    # The Dublin transfer decision and the appeal against it (the subject is the view's).
    "transfer_decision": TransferDecisionForm,
    "transfer_appeal": AppealFactsForm,
    "transfer_judgment": JudgmentForm,
    "transfer_further_appeal": FurtherAppealForm,
    "up_to_date": UpToDateForm,
    "procedure": ChannelForm,
    "admissibility_extension": ExtendAdmissibilityForm,
    "interview_missed": MissedInterviewForm,
    "vulnerability": VulnerabilityForm,
    "dublin_start": StartDublinForm,
    "dublin_request": DublinRequestForm,
    "dublin_reply": DublinReplyForm,
    "dublin_default": AcceptByDefaultForm,
    "responsibility": ResponsibilityForm,
    "transfer_extension": TransferExtensionForm,
    "transfer": TransferForm,
    "subsequent": SubsequentApplicationForm,
    "age_assessment": AgeAssessmentForm,
    "representative": RepresentativeForm,
    "legal_representative": LegalRepresentativeForm,
    "family_link": FamilyLinkForm,
    "family_unlink": FamilyUnlinkForm,
}
ACTION_LABELS = {
    "interview_schedule": _("Schedule a personal interview"),
    "interview_reschedule": _("Move a scheduled interview"),
    "interview_cancel": _("Cancel a scheduled interview"),
    "interview": _("Record the personal interview"),
    "court_order": _("Record the court order on detention"),
    "detention_review": _("Record a review of the detention"),
    "detention_appeal": _("Record an appeal against the detention"),
    "detention_appeal_result": _("Record the result of the appeal against detention"),
    "alternative": _("Apply an alternative to detention"),
    "end_alternative": _("End the alternative to detention"),
    "service": _("Record service of the decision"),
    "judgment": _("Record the judgment on the appeal"),
    "further_appeal": _("Record a further appeal to the Supreme Administrative Court"),
    "suspensive_effect": _("Record the suspensive effect of the appeal"),
    "transfer_decision": _("Record service of the transfer decision"),
    "transfer_appeal": _("Record the appeal against the transfer decision"),
    "transfer_judgment": _("Record the judgment on the transfer decision"),
    "transfer_further_appeal": _(
        "Record a further appeal on the transfer decision to the Supreme Administrative Court"
    ),
    "up_to_date": _("The record is up to date"),
    "procedure": _("Channel into a procedure"),
    "admissibility_extension": _("Extend the examination of admissibility"),
    "interview_missed": _("Record a missed interview"),
    "vulnerability": _("Record the vulnerability assessment"),
    "dublin_start": _("Start the Dublin procedure"),
    "dublin_request": _("Record the Dublin request"),
    "dublin_reply": _("Record the reply to the Dublin request"),
    "dublin_default": _("Record acceptance by default"),
    "responsibility": _("Record the Member State responsible"),
    "transfer_extension": _("Extend the transfer period"),
    "transfer": _("Record the transfer"),
    "subsequent": _("Record a subsequent application"),
    "age_assessment": _("Record the age assessment"),
    "representative": _("Record the representative of the unaccompanied minor"),
    "legal_representative": _("Record the legal representative"),
    "family_link": _("Link a family member"),
    "family_unlink": _("Remove a family link"),
}


def build_form(form_class, *args, case: Application | None = None, case_rows=None, **kwargs):
    """`form_class(*args, **kwargs)`; a `CaseForm`, which takes its choices from its case,
    also with `case` and the case's rows already read (`case_rows`: interviews, documents)."""
    if issubclass(form_class, CaseForm):
        return form_class(*args, case=case, **(case_rows or {}), **kwargs)
    return form_class(*args, **kwargs)


def action_form(name: str, case: Application, *args, **kwargs) -> forms.Form:
    """The form of the record step `name` on `case`."""
    return build_form(ACTION_FORMS[name], *args, case=case, **kwargs)


# ------------------------------------------------------------------------------------------
# Notes, documents, assignment
# ------------------------------------------------------------------------------------------


class NoteForm(Form):
    text = forms.CharField(
        label=_("New note"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4})
    )


class BreakGlassForm(Form):
    """Emergency access: the case's reference (typed in the search, carried along) and why."""

    reference = forms.CharField(max_length=32, widget=forms.HiddenInput)
    reason = reason_field(
        label=_("Why you must open this case now"),
        help_text=_(
            "Recorded on the case's timeline with your name; the case's unit's "
            "decision-makers are told at once."
        ),
    )


class DocumentForm(Form):
    """The file's size, type and name are judged by `workflow.add_document` (by its bytes)."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, image (PNG, JPEG, GIF, WebP) or plain text."),
    )
    kind = forms.ChoiceField(
        label=_("Type of document"),
        choices=Document.Kind.choices,
        initial=Document.Kind.OTHER,
        required=False,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("What the document is, e.g. “Passport”. Empty: its file name."),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class AssignForm(Form):
    assignee = CaseworkerChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (unassign)"),
    )

    def __init__(self, *args, unit_id: int | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].for_unit(unit_id)

    def clean(self):
        # The form always sends the field ("" is its "Nobody" option); a request without it
        # would otherwise unassign the case as a side effect of saying nothing.
        if self.is_bound and self.add_prefix("assignee") not in self.data:
            self.add_error("assignee", _("Choose whom to assign the case to, or nobody."))
        return super().clean()


class BulkAssignForm(AssignForm):
    cases = forms.TypedMultipleChoiceField(coerce=int, required=True)

    def __init__(self, *args, unit_id: int | None, case_ids: list[int], **kwargs) -> None:
        super().__init__(*args, unit_id=unit_id, **kwargs)
        self.fields["cases"].choices = [(str(pk), str(pk)) for pk in case_ids]
        self.fields["cases"].error_messages["required"] = _("Select at least one case.")


# The forms whose fields and choices are fixed lists (no database rows, no date of today):
# unbound, with the same values, in the same language, they render the same HTML. A form
# with database choices is never one, whatever it declares.
FIXED_FORMS = frozenset(
    form_class
    for form_class in (*ACTION_FORMS.values(), NoteForm, DocumentForm, FamilyLinkForm)
    if form_class.empty_html == FIXED
    and not any(isinstance(f, forms.ModelChoiceField) for f in form_class.base_fields.values())
)


@functools.lru_cache(maxsize=256)
def _fixed_form_html(form_class, auto_id: str, language: str, initial: tuple) -> SafeString:
    return form_class(auto_id=auto_id, initial=dict(initial)).render()


# Empty forms of kind PLACES as rendered, by (class, ids, language, initial codes, the
# facilities listed with their places): a new key whenever a place is taken or freed.
_PLACES_HTML: dict[tuple, SafeString] = {}
_PLACES_KEPT = 256


def _places_form_html(form: forms.Form, key: tuple) -> SafeString:
    """The form's HTML, rendered once per `key` in this process."""
    html = _PLACES_HTML.get(key)
    if html is None:
        if len(_PLACES_HTML) >= _PLACES_KEPT:
            _PLACES_HTML.clear()
        html = _PLACES_HTML[key] = form.render()
    return html


def empty_form_html(
    form_class,
    *,
    auto_id: str,
    initial: dict[str, Any] | None = None,
    case: Application | None = None,
    interviews=None,
    documents=None,
) -> SafeString:
    """An empty form for the case page, as HTML, kept as long as what it shows holds (its
    `empty_html`): the case page shows up to a dozen forms and rendering their widgets was a
    quarter of its time.

    A fixed form (`FIXED_FORMS`) whose initial values are choice codes only (no personal
    text: no cache holds anybody's facts) is rendered once per process and language; a form
    that shows its case's unit's staff only, empty, is kept beside that list
    (`staff.staff_html`); a form of facilities with their places free (`PLACES`), whose
    initial values are codes, is kept in this process for the facilities as just read (one
    query a page; rendering it was a twelfth of the case page); any other (a `CaseForm` built
    with `case`) is rendered each time."""
    initial = initial or {}
    language = translation.get_language()
    if form_class.empty_html == STAFF and case is not None and not initial:
        return staff_html(
            case.unit_id,
            f"{form_class.__name__}:{auto_id}:{language}",
            lambda: form_class(auto_id=auto_id, case=case).render(),
        )
    fields = form_class.base_fields
    if form_class in FIXED_FORMS and all(
        type(fields.get(name)) is forms.ChoiceField and isinstance(value, str)
        for name, value in initial.items()
    ):
        key = tuple(sorted(initial.items()))
        return _fixed_form_html(form_class, auto_id, language, key)
    rows = {"interviews": interviews, "documents": documents}
    form = build_form(form_class, auto_id=auto_id, initial=initial, case=case, case_rows=rows)
    if form_class.empty_html == PLACES and all(isinstance(v, str) for v in initial.values()):
        # The facilities with their places as listed (one query), kept as the field's
        # choices: what the HTML shows is what it is kept by.
        field = form.fields["facility"]
        field.choices = choices = list(iter(field.choices))  # (a list would count them first)
        listed = tuple((str(value), str(text)) for value, text in choices)
        key = (form_class, auto_id, language, tuple(sorted(initial.items())), listed)
        return _places_form_html(form, key)
    return form.render()


def parse_ids(values: list[str], limit: int = 500) -> list[int]:
    """Positive database ids from form values; anything else is dropped."""
    ids: list[int] = []
    for value in values[:limit]:
        value = value.strip()
        if value.isascii() and value.isdigit() and 0 < int(value) < 2**63:
            ids.append(int(value))
    return ids


# ------------------------------------------------------------------------------------------
# Intake
# ------------------------------------------------------------------------------------------

APPLICANT_FIELDS = [
    "family_name",
    "given_names",
    "name_original",
    "aliases",
    "date_of_birth",
    "sex",
    "nationality",
    "languages",
    "id_document_type",
    "id_document_number",
    "id_document_country",
    "id_document_expires_on",
    "military_status",
    "military_rank",
    "military_unit",
    "military_background",
    "health_notes",
    "sogi_notes",
    "trauma_history",
    "vulnerability_details",
]
APPLICATION_FIELDS = list(workflow.INTAKE_FIELDS)
_DATE_FIELDS = ("date_of_birth", "submitted_on", "lodged_on", "apprehended_on", "entered_on")
# Shown only when the applicant states a military or security-service background.
MILITARY_FIELDS = ("military_status", "military_rank", "military_unit", "military_background")
ID_DOCUMENT_FIELDS = (
    "id_document_type",
    "id_document_number",
    "id_document_country",
    "id_document_expires_on",
)
# The nationality choice of a stateless person (stored as `Applicant.stateless`).
STATELESS = "stateless"


def grounds_field() -> forms.MultipleChoiceField:
    """The grounds of a claim, as boxes to tick (stored as a list of codes)."""
    return forms.MultipleChoiceField(
        label=_("Grounds"),
        choices=Application.Ground.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class IntakeForm(Form):
    """A new case: the applicant's facts and the application's, in one form.

    Field definitions come from the models (labels, lengths, choices); free-text fields get a
    length limit here so that a pasted novel is refused with a message.
    """

    assign_to_me = forms.BooleanField(
        label=_("Assign the new case to me"), required=False, initial=True
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        widgets = dict.fromkeys((*_DATE_FIELDS, "id_document_expires_on"), DateInput)
        self.fields.update(fields_for_model(Applicant, fields=APPLICANT_FIELDS, widgets=widgets))
        self.fields.update(
            fields_for_model(
                Application,
                fields=[f for f in APPLICATION_FIELDS if f != "grounds"],
                widgets=widgets,
            )
        )
        self.fields["grounds"] = grounds_field()
        for name in _DATE_FIELDS:
            self.fields[name].validators.append(validate_past_date)
        order = APPLICANT_FIELDS + APPLICATION_FIELDS
        self.order_fields(order)
        for name in (
            "aliases",
            "military_background",
            "claim_summary",
            "health_notes",
            "sogi_notes",
            "trauma_history",
            "vulnerability_details",
        ):
            field = self.fields[name]
            field.validators.append(MaxLengthValidator(TEXT_LIMIT))
            field.widget.attrs["rows"] = 3
        self.fields["family_name"].help_text = _("As in the documents, in Latin script.")
        self.fields["nationality"].choices = [
            ("", _("Nationality unknown")),
            (STATELESS, _("Stateless")),
            *[(code, name) for code, name in countries],
        ]
        self.fields["nationality"].help_text = ""
        self.fields["id_document_country"].choices = [
            ("", "—"),
            *[(code, name) for code, name in countries],
        ]
        self.fields["id_document_type"].choices = [
            ("", _("None recorded")),
            *Applicant.IdentityDocument.choices,
        ]
        self.fields["states_military_background"] = forms.BooleanField(
            label=_("The applicant states a military or security-service background"),
            required=False,
        )
        self.fields["military_status"].choices = [
            ("", _("None or not known")),
            *Applicant.MilitaryStatus.choices,
        ]
        # The time of apprehension, when known: with the day, the moment the 48-hour limit
        # on detention without a court order runs from (else 12:00 on the day).
        self.fields["apprehension_time"] = forms.TimeField(
            label=_("Time of apprehension"),
            required=False,
            widget=TimeInput,
            help_text=_("24-hour, Vilnius time, if known: the 48-hour limit runs from it."),
        )
        # Optional: a family member who has a case of their own (`workflow.link_family`).
        self.fields["relative_reference"] = relative_reference_field(required=False)
        self.fields["relation"] = relation_field(required=False)

    def clean(self):
        data = super().clean()
        # The page asks (`military_asked`); other callers (the API) send the details or not.
        if (
            self.data.get("military_asked")
            and not data.get("states_military_background")
            and any(data.get(name) for name in MILITARY_FIELDS)
        ):
            # Typed in, then the box unticked: keep what was typed and ask, never drop it.
            self.add_error(
                "states_military_background",
                _("Tick this box to record the military details, or clear them."),
            )
        if data.get("id_document_number") and not data.get("id_document_type"):
            self.add_error("id_document_type", _("Choose the type of the document."))
        if data.get("apprehension_time") and not data.get("apprehended_on"):
            if "apprehended_on" not in self.errors:
                self.add_error("apprehension_time", _("Give the day of apprehension too."))
        elif self.apprehended_at() and self.apprehended_at() > timezone.now():
            self.add_error("apprehension_time", _("This moment is in the future."))
        if bool(data.get("relative_reference", "").strip()) != bool(data.get("relation")):
            missing = "relation" if data.get("relative_reference") else "relative_reference"
            if missing not in self.errors:
                self.add_error(
                    missing, _("Give both the family member's case reference and the relation.")
                )
        return data

    def family_data(self) -> dict[str, str]:
        """The family member to link the new applicant to (`workflow.intake`), if any."""
        return {
            "relative_reference": self.cleaned_data.get("relative_reference", ""),
            "relation": self.cleaned_data.get("relation", ""),
        }

    def family_fields(self):
        return [self["relative_reference"], self["relation"]]

    def apprehended_at(self) -> dt.datetime | None:
        """The moment of apprehension, Vilnius time, when its day and time are given."""
        day = self.cleaned_data.get("apprehended_on")
        time = self.cleaned_data.get("apprehension_time")
        if not (day and time):
            return None
        return dt.datetime.combine(day, time, tzinfo=VILNIUS)

    def military_open(self) -> bool:
        """Whether the military block shows: the box is ticked, or it holds values."""
        if self.is_bound:
            return bool(self.data.get("states_military_background")) or any(
                self.data.get(name) for name in MILITARY_FIELDS
            )
        return any(self.initial.get(name) for name in MILITARY_FIELDS)

    def applicant_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in APPLICANT_FIELDS}
        data["stateless"] = data["nationality"] == STATELESS
        if data["stateless"]:
            data["nationality"] = ""
        return data

    def application_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in APPLICATION_FIELDS}
        if self.apprehended_at():
            data["apprehended_at"] = self.apprehended_at()
        return data

    def applicant_fields(self):
        return [
            self[name]
            for name in APPLICANT_FIELDS
            if name not in MILITARY_FIELDS and name not in ID_DOCUMENT_FIELDS
        ]

    def id_document_fields(self):
        return [self[name] for name in ID_DOCUMENT_FIELDS]

    def military_fields(self):
        return [self[name] for name in MILITARY_FIELDS]

    def application_fields(self):
        fields = []
        for name in APPLICATION_FIELDS:
            fields.append(self[name])
            if name == "apprehended_on":
                fields.append(self["apprehension_time"])
        return fields
