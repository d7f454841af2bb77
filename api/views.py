"""The REST API's endpoints.

Each reads through `cases.access` (404 for a case the user may not read; reads of a case are
recorded as access events, as the case page records them) and changes a case only through
`cases.workflow` (403 with the reason, 409 when the case changed, 400 with field errors).
The list uses the case list's own filters and search (`cases.filters.ApplicationFilter`), the
events the case page's timeline builder (`cases.timeline.TimelineBuilder`), and inputs are
checked by the pages' own forms.
"""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Window
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, permissions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access, forms, workflow
from cases.filters import DEFAULT_SORT, SORT_ORDERS, ApplicationFilter
from cases.models import (
    Applicant,
    Application,
    Deadline,
    Document,
    Facility,
    Status,
    occupancy_by_regime,
)
from cases.timeline import TimelineBuilder
from cases.views.common import int_or_none
from cases.views.family import family_rows
from cases.views.intake import _may_open_cases, _possible_duplicates
from cases.views.lists import _clean_params

from . import serializers
from .exceptions import field_errors
from .pagination import CasePagination

CASE_ROWS = ("applicant", "unit", "assigned_to")
SORT_DESCRIPTION = (
    "`-submitted` newest applications first (by the date made); `submitted` waiting longest "
    "since submission; `in_state` longest in the current status; `-in_state` most recently "
    "changed status; `deadline` nearest open deadline first (cases without one last); "
    "`reference`; `name` the applicant's family and given names (Latin script)."
)
EVENTS_LIMIT = 1_000

ERRORS = {
    400: OpenApiResponse(serializers.ErrorSerializer, description="Bad input"),
    401: OpenApiResponse(serializers.ErrorSerializer, description="No valid token"),
    403: OpenApiResponse(serializers.ErrorSerializer, description="Not allowed, with why"),
    404: OpenApiResponse(serializers.ErrorSerializer, description="No such case for you"),
    409: OpenApiResponse(serializers.ErrorSerializer, description="The case changed"),
    429: OpenApiResponse(serializers.ErrorSerializer, description="Too many requests"),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in (401, 429, *codes)}


class WorksOnCases(permissions.BasePermission):
    """Signed in with a role that sees cases (the UI shows such users an empty page)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if access.readable_unit(request.user) is None:
            raise exceptions.PermissionDenied(_("Your account has no role that works on cases."))
        return True


def body(request) -> dict[str, str]:
    """The JSON body as a form's data: an object of single values, each as text."""
    data = request.data
    if not isinstance(data, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": [_("The body must be a JSON object.")]}
        )
    return single_values(data)


def single_values(data: dict) -> dict[str, str]:
    """Forms read text (as from a page's POST); a list or an object where one value belongs
    is refused, so that it is never turned into text like "['a']"."""
    cleaned: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            problems[key] = [_("Expected one value (text or a number).")]
            continue
        cleaned[key] = value if isinstance(value, str) else str(value)
    if problems:
        raise exceptions.ValidationError(problems)
    return cleaned


def case_for(request, pk) -> Application:
    """The case through the one door (404 when missing or not the user's), with who
    assessed the applicant's age (the case detail names them)."""
    return access.get_application_for_user(
        request.user,
        pk,
        queryset=Application.objects.select_related(*CASE_ROWS, "age_assessed_by"),
    )


def form_errors(form) -> dict[str, list[str]]:
    return {
        (field if field != "__all__" else "non_field_errors"): [str(m) for m in messages]
        for field, messages in form.errors.items()
    }


def invalid(form) -> exceptions.ValidationError:
    return exceptions.ValidationError(form_errors(form))


class CaseList(APIView):
    permission_classes = [WorksOnCases]

    @extend_schema(
        summary="Cases",
        operation_id="cases_list",
        description=(
            "The cases the user may read, with the case list's filters, its search `q` "
            "(reference, or a name in any script: Королёв finds Korolev) and its sort orders "
            "(`sort`, newest applications first by default). Pages follow the `next` and "
            "`previous` links: their cursor holds the position in the chosen order (ties "
            "broken by the case's id), so no case is skipped or repeated while cases are added."
        ),
        parameters=[
            OpenApiParameter("q", str, description="Reference, or a name in any script."),
            OpenApiParameter("status", str, enum=Status.values),
            OpenApiParameter("procedure", str, enum=Application.Procedure.values),
            OpenApiParameter("facility", int, description="Placed there now."),
            OpenApiParameter("nationality", str, description="ISO 3166 code."),
            OpenApiParameter("assigned", str, description="`me`, `none` or a user's id."),
            OpenApiParameter("overdue", bool, description="Only cases with an overdue deadline."),
            OpenApiParameter(
                "sort",
                str,
                enum=list(SORT_ORDERS),
                default=DEFAULT_SORT,
                description=SORT_DESCRIPTION,
            ),
            OpenApiParameter(
                "cursor", str, description="From a page's `next` or `previous` link, same `sort`."
            ),
            OpenApiParameter("page_size", int, description="1–100, 25 by default."),
        ],
        responses={200: serializers.CasePageSerializer, **errors(400, 403, 404)},
    )
    def get(self, request):
        params = _clean_params(request.query_params)
        for name in ("cursor", "page_size", "page", "per_page", "format"):
            params.pop(name, None)
        visible = access.visible_applications(request.user)
        filterset = ApplicationFilter(params, queryset=visible, request=request)
        if not filterset.is_valid():
            raise invalid(filterset.form)
        paginator = CasePagination(request, sort=filterset.form.cleaned_data.get("sort"))
        page = paginator.paginate(filterset.qs.select_related(*CASE_ROWS))
        return paginator.response(serializers.CaseSerializer(page, many=True).data)

    @extend_schema(
        summary="Register a case (intake)",
        operation_id="cases_create",
        description=(
            "The intake page's fields. Possible duplicates of the applicant (a similar name in "
            "any script, or the same date of birth, among cases the user may read) answer 409 "
            'with `candidates`; send again with `applicant`: a candidate\'s id or "new".'
        ),
        request=serializers.IntakeInputSerializer,
        responses={
            201: serializers.CaseDetailSerializer,
            409: OpenApiResponse(serializers.DuplicatesSerializer, description="Duplicates?"),
            **errors(400, 403, 404),
        },
    )
    def post(self, request):
        user = request.user
        if not _may_open_cases(user):
            raise exceptions.PermissionDenied(
                _("Cases are opened by caseworkers and decision-makers of a unit.")
            )
        data = intake_data(request)
        form = forms.IntakeForm(data)
        if not form.is_valid():
            raise invalid(form)
        candidates = _possible_duplicates(user, form)
        choice = data.get("applicant", "")
        if candidates and not choice:
            return Response(
                {
                    "detail": _("Possible duplicates found. Check them and choose before saving."),
                    "errors": {},
                    "candidates": [
                        {
                            "id": c["pk"],
                            "name": c["name"],
                            "name_original": c["name_original"],
                            "date_of_birth": c["date_of_birth"],
                            "nationality": c["nationality"],
                            "reasons": c["reasons"],
                            "cases": [case["reference"] for case in c["cases"]],
                        }
                        for c in candidates
                    ],
                },
                status=status.HTTP_409_CONFLICT,
            )
        existing = None
        if choice and choice != "new":
            ids = {c["pk"] for c in candidates}
            picked = int_or_none(choice)
            if picked not in ids:
                raise exceptions.ValidationError(
                    {"applicant": [_("Choose one of the candidates, or “new”.")]}
                )
            existing = Applicant.objects.get(pk=picked)
        try:
            case = workflow.intake(
                actor=user,
                assign_to_author=form.cleaned_data["assign_to_me"],
                applicant=existing,
                applicant_data=None if existing else form.applicant_data(),
                **form.application_data(),
                **form.family_data(),
            )
        except DjangoValidationError as exc:
            forms.attach_errors(form, exc)
            raise invalid(form) from None
        return Response(
            case_answer(case_for(request, case.pk), user), status=status.HTTP_201_CREATED
        )


def intake_data(request) -> QueryDict:
    """The intake body as form data: single values as text, `grounds` as a list of codes,
    `assign_to_me` as a boolean; anything else is refused."""
    data = request.data
    if not isinstance(data, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": [_("The body must be a JSON object.")]}
        )
    grounds = data.get("grounds", [])
    assign = data.get("assign_to_me", False)
    problems: dict[str, list[str]] = {}
    if not isinstance(grounds, list) or not all(isinstance(g, str) for g in grounds):
        problems["grounds"] = [_("Expected a list of codes.")]
    if not isinstance(assign, bool):
        problems["assign_to_me"] = [_("Expected true or false.")]
    rest = {k: v for k, v in data.items() if k not in ("grounds", "assign_to_me")}
    single: dict[str, str] = {}
    try:
        single = single_values(rest)
    except exceptions.ValidationError as exc:
        problems.update(exc.detail)
    if problems:
        raise exceptions.ValidationError(problems)
    form_data = QueryDict(mutable=True)
    for key, value in single.items():
        form_data[key] = value
    if isinstance(grounds, list):
        form_data.setlist("grounds", grounds[:20])
    if assign:
        form_data["assign_to_me"] = "on"
    return form_data


class CaseDetail(APIView):
    @extend_schema(
        summary="One case",
        description="The case, and each transition with whether the user may run it now.",
        responses={200: serializers.CaseDetailSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        case = case_for(request, pk)
        access.log_access(case, request.user, request, what="case")
        return Response(case_answer(case, request.user))


def case_answer(case: Application, user) -> dict[str, Any]:
    transitions = [
        {
            "name": t.name,
            "label": t.label,
            "allowed": t.allowed,
            "blocked_reason": t.blocked_reason,
        }
        for t in workflow.available_transitions(case, user)
    ]
    family = [
        {
            "relation": row["code"],
            "relation_label": row["relation"],
            "reference": row["reference"] or None,
            "recorded_at": row["recorded_at"],
        }
        for row in family_rows(case, user)
    ]
    return serializers.CaseDetailSerializer(
        case, context={"transitions": transitions, "family": family}
    ).data


class CaseEvents(APIView):
    @extend_schema(
        summary="The case's timeline",
        description=(
            f"Newest first, at most {EVENTS_LIMIT} events, written as the case page writes "
            "them; views of the case are not listed."
        ),
        responses={200: serializers.EventSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        case = case_for(request, pk)
        access.log_access(case, request.user, request, what="case")
        events = list(
            case.events.timeline()
            .select_related("actor")
            .annotate(timeline_total=Window(Count("*")))[:EVENTS_LIMIT]
        )
        rows = TimelineBuilder(
            case,
            events,
            notes=case.notes.select_related("author"),
            documents=case.documents.all(),
            placements=case.placements.select_related("facility"),
            document_url=_document_url,
        ).rows()
        return Response(serializers.EventSerializer(rows, many=True).data)


def _document_url(document: Document) -> str:
    return reverse("cases:document", args=[document.application_id, document.pk])


class CaseTransition(APIView):
    @extend_schema(
        summary="Run a transition",
        description=(
            "Runs the transition `name` (start_examination, detain, release, decide, appeal, "
            "remit, close, withdraw) against the status the client saw (`expected_status`). "
            "403 says why the user may not; 409 means the case is no longer in "
            "`expected_status`: nothing was changed."
        ),
        request=serializers.TransitionInputSerializer,
        responses={200: serializers.CaseDetailSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int, name: str):
        if name not in workflow.TRANSITIONS:
            raise Http404
        user = request.user
        case = case_for(request, pk)
        data = body(request)
        seen = data.get("expected_status", "")
        if seen and seen != case.status:
            raise _stale(case, seen)
        blocked = workflow.blocked_reason(case, name, user)
        if blocked:
            raise workflow.TransitionForbidden(blocked)
        form = forms.TRANSITION_FORMS[name](data, case=case)
        if not form.is_valid():
            raise invalid(form)
        kwargs = form.workflow_kwargs()
        reason = kwargs.pop("reason")
        try:
            workflow.TRANSITIONS[name](
                case.pk,
                actor=user,
                expected_status=form.cleaned_data["expected_status"],
                reason=reason,
                **kwargs,
            )
        except DjangoValidationError as exc:
            forms.attach_errors(form, exc)
            raise exceptions.ValidationError(form_errors(form) or field_errors(exc)) from None
        return Response(case_answer(case_for(request, pk), user))


def _stale(case: Application, seen: str) -> workflow.StaleCase:
    seen_label = dict(Status.choices).get(seen, _("an earlier status"))
    return workflow.StaleCase(
        _(
            "The case is now “%(now)s”, not “%(seen)s”. Nothing was changed; read the case "
            "again before you retry."
        )
        % {"now": case.get_status_display(), "seen": seen_label}
    )


class CaseNotes(APIView):
    @extend_schema(
        summary="The case's notes",
        responses={200: serializers.NoteSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        case = case_for(request, pk)
        access.log_access(case, request.user, request, what="case")
        notes = case.notes.select_related("author").order_by("-created_at", "-id")
        return Response(serializers.NoteSerializer(notes, many=True).data)

    @extend_schema(
        summary="Add a note",
        request=serializers.NoteInputSerializer,
        responses={201: serializers.NoteSerializer, **errors(400, 403, 404)},
    )
    def post(self, request, pk: int):
        case = case_for(request, pk)
        form = forms.NoteForm(body(request))
        if not form.is_valid():
            raise invalid(form)
        note = workflow.add_note(case.pk, actor=request.user, text=form.cleaned_data["text"])
        return Response(serializers.NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class FacilityList(APIView):
    permission_classes = [WorksOnCases]

    @extend_schema(
        summary="Facilities",
        description="Each facility with its capacity and the people placed there now.",
        responses={200: serializers.FacilitySerializer(many=True), **errors(403)},
    )
    def get(self, request):
        facilities = Facility.objects.order_by("-is_active", "name")
        context = {"occupancy": occupancy_by_regime()}
        return Response(serializers.FacilitySerializer(facilities, many=True, context=context).data)


class DeadlinePagination(CursorPagination):
    """Soonest first; a cursor stays valid while deadlines are added."""

    ordering = ("due_at", "id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class DeadlineFilterForm(django_forms.Form):
    due_after = django_forms.DateField(required=False)
    due_before = django_forms.DateField(required=False)
    rule = django_forms.SlugField(required=False, max_length=50)
    status = django_forms.ChoiceField(required=False, choices=[("", ""), *Deadline.Status.choices])


class DeadlineList(APIView):
    permission_classes = [WorksOnCases]

    @extend_schema(
        summary="Deadlines",
        operation_id="deadlines_list",
        description=(
            "Deadlines of the cases the user may read, soonest first. `due_after` and "
            "`due_before` compare the legal date (`due_on`), both included."
        ),
        parameters=[
            OpenApiParameter("due_after", OpenApiTypes.DATE),
            OpenApiParameter("due_before", OpenApiTypes.DATE),
            OpenApiParameter("rule", str, description="A deadline rule's code."),
            OpenApiParameter("status", str, enum=Deadline.Status.values),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int, description="1–100, 25 by default."),
        ],
        responses={200: serializers.DeadlinePageSerializer, **errors(400, 403, 404)},
    )
    def get(self, request):
        form = DeadlineFilterForm(_clean_params(request.query_params))
        if not form.is_valid():
            raise invalid(form)
        wanted = form.cleaned_data
        deadlines = Deadline.objects.filter(
            application__in=access.visible_applications(request.user).values("pk")
        ).select_related("application", "rule")
        if wanted["due_after"]:
            deadlines = deadlines.filter(due_on__gte=wanted["due_after"])
        if wanted["due_before"]:
            deadlines = deadlines.filter(due_on__lte=wanted["due_before"])
        if wanted["rule"]:
            deadlines = deadlines.filter(rule_id=wanted["rule"])
        if wanted["status"]:
            deadlines = deadlines.filter(status=wanted["status"])
        paginator = DeadlinePagination()
        page = paginator.paginate_queryset(deadlines, request, view=self)
        context = {"now": timezone.now()}
        return paginator.get_paginated_response(
            serializers.DeadlineSerializer(page, many=True, context=context).data
        )


class CaseDocuments(APIView):
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        summary="The case's documents",
        responses={200: serializers.DocumentSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        case = case_for(request, pk)
        access.log_access(case, request.user, request, what="case")
        documents = case.documents.select_related("uploaded_by").order_by("-uploaded_at", "-id")
        return Response(serializers.DocumentSerializer(documents, many=True).data)

    @extend_schema(
        summary="Upload a document",
        description="Multipart, with the same checks as the case page (size, type by content).",
        request={"multipart/form-data": serializers.DocumentInputSerializer},
        responses={201: serializers.DocumentSerializer, **errors(400, 403, 404)},
    )
    def post(self, request, pk: int):
        case = case_for(request, pk)
        form = forms.DocumentForm(request.POST, request.FILES)
        if not form.is_valid():
            raise invalid(form)
        try:
            document = workflow.add_document(
                case.pk,
                actor=request.user,
                file=form.cleaned_data["file"],
                original_name=form.cleaned_data["file"].name,
                description=form.cleaned_data["description"],
            )
        except DjangoValidationError as exc:
            forms.attach_errors(form, exc)
            raise invalid(form) from None
        return Response(
            serializers.DocumentSerializer(document).data, status=status.HTTP_201_CREATED
        )


class CaseDocumentDownload(APIView):
    @extend_schema(
        summary="Download a document",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, with its stored content type."
            ),
            **errors(404),
        },
    )
    def get(self, request, pk: int, document_pk: int):
        return access.document_download(request, case_for(request, pk), document_pk)
