"""Changes to a case through a form: the status transitions, the records that change no
status (interview, court order, service, appeals and judgments), waiving a deadline, and
assigning.

Each is a GET that shows the form and a POST that calls `cases.workflow`; a refusal answers
403 or 409 with a page that says why.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User

from .. import forms, predicates, workflow
from ..labels import data_text, person, transition_labels
from ..models import Appeal, Application, Deadline, DetentionAppeal, Status
from .common import _form_case, _form_page, _refused, _submit, limits_missed


def decide_warnings(case: Application) -> list[str]:
    """What a decision-maker should know before deciding: the applicant is still detained,
    the interview was not held, statutory limits are missed or overdue."""
    warnings = []
    detention = case.open_detention()
    if detention is not None:
        warnings.append(
            _(
                "The applicant is still detained at %(facility)s (since %(since)s). A positive "
                "decision ends the detention; any other decision leaves it open."
            )
            % {
                "facility": detention.facility.name,
                "since": timezone.localdate(detention.starts_at).isoformat(),
            }
        )
    if case.interviewed_on is None:
        if case.interview_waiver_reason:
            warnings.append(
                _("No personal interview was held; it was waived: %(reason)s")
                % {"reason": case.interview_waiver_reason}
            )
        else:
            warnings.append(_("The personal interview is not recorded."))
    for limit in limits_missed(list(case.deadlines.select_related("rule")), timezone.now()):
        warnings.append(_("%(name)s: %(state)s") % {"name": limit["name"], "state": limit["text"]})
    return warnings


@login_required
@require_http_methods(["GET", "POST"])
def transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A transition's form (GET) and its submission (POST) through `workflow.<name>`."""
    if name not in workflow.TRANSITIONS:
        raise Http404
    user = request.user
    case = _form_case(user, pk)
    labels = transition_labels()
    option = next((t for t in workflow.available_transitions(case, user) if t.name == name), None)
    title = _("%(step)s: %(ref)s") % {"step": labels[name], "ref": case.reference}
    action_url = reverse("cases:transition", args=[case.pk, name])
    form_class = forms.TRANSITION_FORMS[name]

    if request.method == "POST":
        seen = request.POST.get("expected_status", "")
        if seen and seen != case.status:
            return _refused(request, case, _stale(case, seen))
    blocked = workflow.blocked_reason(case, name, user)
    if blocked:
        return _refused(request, case, workflow.TransitionForbidden(blocked))

    page = {
        "title": title,
        "intro": option.help_text if option else "",
        "action_url": action_url,
        "submit_label": labels[name],
    }
    if name == "decide":
        page["warnings"] = decide_warnings(case)
    if request.method == "GET":
        return _form_page(request, case, form_class(case=case), **page)

    form = form_class(request.POST, case=case)

    def run():
        data = form.workflow_kwargs()
        reason = data.pop("reason")
        return workflow.TRANSITIONS[name](
            case.pk,
            actor=user,
            expected_status=form.cleaned_data["expected_status"],
            reason=reason,
            **data,
        )

    return _submit(
        request,
        case,
        form,
        run,
        done=lambda updated: (
            _("%(step)s: done. The case is now “%(status)s”.")
            % {"step": labels[name], "status": updated.get_status_display()}
        ),
        next_url=reverse("cases:detail", args=[case.pk]),
        page=page,
    )


def _stale(case: Application, seen: str) -> workflow.StaleCase:
    seen_label = dict(Status.choices).get(seen, _("an earlier status"))
    return workflow.StaleCase(
        _(
            "This case changed while you were looking at it: it is now “%(now)s”, not "
            "“%(seen)s”. Nothing was changed; open the case again and check before you retry."
        )
        % {"now": case.get_status_display(), "seen": seen_label}
    )


def _run_action(name: str, case: Application, user: User, form) -> Any:
    data = form.cleaned_data
    if name == "interview":
        return workflow.record_interview(
            case.pk,
            actor=user,
            interviewed_on=data["interviewed_on"],
            waiver_reason=data["waiver_reason"],
            interview=data["interview"],
            record=data["record"],
        )
    if name == "interview_schedule":
        return workflow.schedule_interview(case.pk, actor=user, **form.workflow_kwargs())
    if name == "interview_reschedule":
        return workflow.reschedule_interview(case.pk, actor=user, **form.workflow_kwargs())
    if name == "interview_cancel":
        return workflow.cancel_interview(
            case.pk, actor=user, interview=data["interview"], reason=data["reason"]
        )
    if name in DETENTION_ACTIONS:
        return DETENTION_ACTIONS[name](case, user, data)
    if name == "service":
        return workflow.record_service(case.pk, actor=user, **data)
    if name == "judgment":
        return workflow.record_judgment(case.pk, actor=user, **data)
    if name == "further_appeal":
        return workflow.appeal_further(case.pk, actor=user, **data)
    if name == "suspensive_effect":
        return workflow.record_suspensive_effect(case.pk, actor=user, **data)
    if name == "up_to_date":
        return workflow.bring_up_to_date(case.pk, actor=user, reason=data["reason"])
    verb = PROCEDURE_ACTIONS.get(name)
    if verb is None:
        raise Http404
    return verb(case, user, data)


def _subsequent(case: Application, user: User, data: dict[str, Any]) -> Application:
    """A subsequent application by the same applicant: a new case that names this one."""
    return workflow.intake(
        actor=user,
        applicant=case.applicant,
        unit=case.unit,
        procedure=Application.Procedure.SUBSEQUENT,
        previous_application=case,
        submitted_on=data["submitted_on"],
        lodged_on=data["lodged_on"],
        reason=data["reason"],
    )


def _appeal_result(case: Application, user: User, data: dict[str, Any]) -> Application:
    """The result of the pending appeal against detention (the latest one lodged)."""
    pending = (
        DetentionAppeal.objects.filter(application=case, result="")
        .order_by("-lodged_on", "-pk")
        .first()
    )
    if pending is None:
        raise workflow.TransitionForbidden(_("No appeal against detention is pending."))
    return workflow.record_detention_appeal_result(case.pk, actor=user, appeal=pending, **data)


# Detention in court and its alternatives (issue 17): slug -> (case, user, data) -> verb.
DETENTION_ACTIONS = {
    "court_order": lambda case, user, data: workflow.record_court_order(
        case.pk, actor=user, **data
    ),
    "detention_review": lambda case, user, data: workflow.record_detention_review(
        case.pk, actor=user, **data
    ),
    "detention_appeal": lambda case, user, data: workflow.lodge_detention_appeal(
        case.pk, actor=user, **data
    ),
    "detention_appeal_result": _appeal_result,
    "alternative": lambda case, user, data: workflow.apply_alternative(case.pk, actor=user, **data),
    "end_alternative": lambda case, user, data: workflow.end_alternative(
        case.pk, actor=user, **data
    ),
}


# The records of the procedures (issue 17): slug -> (case, user, form data) -> workflow verb.
PROCEDURE_ACTIONS = {
    "procedure": lambda case, user, data: workflow.channel_procedure(case.pk, actor=user, **data),
    "admissibility_extension": lambda case, user, data: workflow.extend_admissibility_examination(
        case.pk, actor=user, **data
    ),
    "interview_missed": lambda case, user, data: workflow.record_missed_interview(
        case.pk, actor=user, **data
    ),
    "vulnerability": lambda case, user, data: workflow.record_vulnerability_assessment(
        case.pk, actor=user, **data
    ),
    "dublin_start": lambda case, user, data: workflow.start_dublin(case.pk, actor=user, **data),
    "dublin_request": lambda case, user, data: workflow.send_dublin_request(
        case.pk, actor=user, **data
    ),
    "dublin_reply": lambda case, user, data: workflow.record_dublin_reply(
        case.pk, actor=user, **data
    ),
    "dublin_default": lambda case, user, data: workflow.accept_by_default(case.pk, actor=user),
    "responsibility": lambda case, user, data: workflow.determine_responsibility(
        case.pk, actor=user, **data
    ),
    "transfer_extension": lambda case, user, data: workflow.extend_transfer(
        case.pk, actor=user, **data
    ),
    "transfer": lambda case, user, data: workflow.record_transfer(case.pk, actor=user, **data),
    "transfer_decision": lambda case, user, data: workflow.record_transfer_decision(
        case.pk, actor=user, **data
    ),
    "transfer_appeal": lambda case, user, data: workflow.appeal_transfer_decision(
        case.pk, actor=user, **data
    ),
    "transfer_judgment": lambda case, user, data: workflow.record_judgment(
        case.pk, actor=user, **{**data, "subject": Appeal.Subject.TRANSFER_DECISION}
    ),
    "transfer_further_appeal": lambda case, user, data: workflow.appeal_further(
        case.pk, actor=user, **{**data, "subject": Appeal.Subject.TRANSFER_DECISION}
    ),
    "subsequent": _subsequent,
    # The person behind the case.
    "age_assessment": lambda case, user, data: workflow.record_age_assessment(
        case.pk, actor=user, **data
    ),
    "representative": lambda case, user, data: workflow.appoint_representative(
        case.pk, actor=user, **data
    ),
    "legal_representative": lambda case, user, data: workflow.record_legal_representative(
        case.pk, actor=user, **data
    ),
    # Family links (shown in the case page's Family section).
    "family_link": lambda case, user, data: workflow.link_family(case.pk, actor=user, **data),
    "family_unlink": lambda case, user, data: workflow.unlink_family(case.pk, actor=user, **data),
}


# Lazy: built when a message is shown, in the language of the user who sees it.
ACTION_DONE = {
    "interview_schedule": gettext_lazy("The interview is scheduled."),
    "interview_reschedule": gettext_lazy("The interview is moved."),
    "interview_cancel": gettext_lazy("The interview is cancelled."),
    "interview": gettext_lazy("The interview is recorded."),
    "court_order": gettext_lazy("The court order is recorded."),
    "detention_review": gettext_lazy("The review of the detention is recorded."),
    "detention_appeal": gettext_lazy("The appeal against the detention is recorded."),
    "detention_appeal_result": gettext_lazy(
        "The result of the appeal against detention is recorded."
    ),
    "alternative": gettext_lazy("The alternative to detention applies."),
    "end_alternative": gettext_lazy("The alternative to detention has ended."),
    "service": gettext_lazy("The service of the decision is recorded."),
    "judgment": gettext_lazy("The judgment is recorded."),
    "further_appeal": gettext_lazy("The further appeal is recorded."),
    "suspensive_effect": gettext_lazy("The suspensive effect is recorded."),
    "up_to_date": gettext_lazy("The record is up to date: its clocks are live."),
    "procedure": gettext_lazy("The procedure is recorded."),
    "admissibility_extension": gettext_lazy("The examination of admissibility is extended."),
    "interview_missed": gettext_lazy("The missed interview is recorded."),
    "vulnerability": gettext_lazy("The vulnerability assessment is recorded."),
    "dublin_start": gettext_lazy("The case is in the Dublin procedure."),
    "dublin_request": gettext_lazy("The Dublin request is recorded."),
    "dublin_reply": gettext_lazy("The reply to the Dublin request is recorded."),
    "dublin_default": gettext_lazy("The acceptance by default is recorded."),
    "responsibility": gettext_lazy("The Member State responsible is recorded."),
    "transfer_extension": gettext_lazy("The transfer period is extended."),
    "transfer": gettext_lazy("The transfer is recorded."),
    "transfer_decision": gettext_lazy("The service of the transfer decision is recorded."),
    "transfer_appeal": gettext_lazy("The appeal against the transfer decision is recorded."),
    "transfer_judgment": gettext_lazy("The judgment is recorded."),
    "transfer_further_appeal": gettext_lazy("The further appeal is recorded."),
    "subsequent": gettext_lazy("The subsequent application is registered as a new case."),
    "age_assessment": gettext_lazy("The age assessment is recorded."),
    "representative": gettext_lazy("The representative of the unaccompanied minor is recorded."),
    "legal_representative": gettext_lazy("The legal representative is recorded."),
    "family_link": gettext_lazy("The family link is recorded on both cases."),
    "family_unlink": gettext_lazy("The family link is removed."),
}


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Actions that change no state: interviews, court order, service, judgment, and the
    records of the procedures (channelling, Dublin, the vulnerability assessment, a missed
    interview, a subsequent application)."""
    if name not in forms.ACTION_FORMS:
        raise Http404
    user = request.user
    case = _form_case(user, pk)
    page = {
        "title": f"{forms.ACTION_LABELS[name]}: {case.reference}",
        "action_url": reverse("cases:action", args=[case.pk, name]),
        "submit_label": _("Record"),
    }
    if request.method == "GET":
        # A record that may release a detainee carries the status the user saw.
        seen = "expected_status" in forms.ACTION_FORMS[name].base_fields
        initial = {"expected_status": case.status} if seen else {}
        return _form_page(request, case, forms.action_form(name, case, initial=initial), **page)
    form = forms.action_form(name, case, request.POST)
    return _submit(
        request,
        case,
        form,
        lambda: _run_action(name, case, user, form),
        done=str(ACTION_DONE[name]),
        # A subsequent application is a new case: the page goes there.
        next_url=lambda result: reverse(
            "cases:detail", args=[result.pk if name == "subsequent" else case.pk]
        ),
        page=page,
    )


@login_required
@require_http_methods(["GET", "POST"])
def waive_deadline(request: HttpRequest, pk: int, deadline_pk: int) -> HttpResponse:
    """A decision-maker waives an open deadline, with a reason."""
    user = request.user
    case = _form_case(user, pk)
    deadline = (
        Deadline.objects.filter(pk=deadline_pk, application=case).select_related("rule").first()
        if 0 < deadline_pk < 2**63
        else None
    )
    if deadline is None:
        raise Http404
    page = {
        "title": _("Waive the deadline “%(name)s”: %(ref)s")
        % {"name": data_text(deadline.rule.name), "ref": case.reference},
        "intro": _("Due on %(date)s (%(source)s).")
        % {"date": deadline.due_on.isoformat(), "source": data_text(deadline.legal_reference)},
        "action_url": reverse("cases:waive_deadline", args=[case.pk, deadline.pk]),
        "submit_label": _("Waive the deadline"),
    }
    refusal = predicates.refusal(user, "cases.decide_case", case)
    if refusal:
        return _refused(request, case, workflow.TransitionForbidden(refusal))
    if request.method == "GET":
        return _form_page(request, case, forms.WaiveDeadlineForm(), **page)
    form = forms.WaiveDeadlineForm(request.POST)
    return _submit(
        request,
        case,
        form,
        lambda: workflow.waive_deadline(deadline, actor=user, reason=form.cleaned_data["reason"]),
        done=_("The deadline is waived."),
        next_url=reverse("cases:detail", args=[case.pk]),
        page=page,
    )


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign the case to a caseworker of its unit, or unassign it (decision-makers)."""
    user = request.user
    case = _form_case(user, pk)
    form = forms.AssignForm(request.POST, unit_id=case.unit_id)

    def done(_case) -> str:
        assignee = form.cleaned_data["assignee"]
        if assignee is None:
            return _("The case is unassigned.")
        return _("The case is assigned to %(who)s.") % {"who": person(assignee)}

    return _submit(
        request,
        case,
        form,
        lambda: workflow.assign(case.pk, actor=user, assignee=form.cleaned_data["assignee"]),
        done=done,
        next_url=reverse("cases:detail", args=[case.pk]),
        page={
            "title": _("Assign: %(ref)s") % {"ref": case.reference},
            "action_url": reverse("cases:assign", args=[case.pk]),
            "submit_label": _("Assign"),
        },
    )
