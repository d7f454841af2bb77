"""The one door to a case.

Every view, export, admin page and command that reaches a case goes through
`visible_applications(user)` or `get_application_for_user(user, pk, write=...)`. A case that
does not exist and a case that is not yours answer the same (404), so that the answer does not
reveal that a case exists.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import BigIntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _

# The one client address of the project (access log, lockout, sessions), re-exported here.
from accounts.addresses import client_ip  # noqa: F401

from . import predicates
from .conflicts import retried
from .models import (
    Application,
    Deadline,
    Placement,
    cases_by_status,
    count_due,
    due_counts,
    kept_by_triggers,
    missed_count,
    start_of_day,
    unassigned_open_cases,
)

ALL_UNITS = "all"


def readable_unit(user) -> int | str | None:
    """Whose cases `user` may read: ALL_UNITS (administrators and superusers), their unit's
    id (caseworkers and decision-makers), or None.

    The permission `cases.read_case` as a filter on many cases, built from the same checks
    (`cases.predicates`); a test holds the two to the same answers."""
    if not (user and predicates.is_signed_in(user)):
        return None
    if user.is_superuser or predicates.is_administrator(user):
        return ALL_UNITS
    if user.unit_id and predicates.works_on_cases(user):
        return user.unit_id
    return None


def report_unit(user) -> int | str | None:
    """Whose figures `user` may see in the management reports: ALL_UNITS (administrators
    and superusers), their unit's id (decision-makers), or None (everyone else)."""
    if not (user and predicates.is_signed_in(user)):
        return None
    if user.is_superuser or predicates.is_administrator(user):
        return ALL_UNITS
    if user.unit_id and predicates.is_decision_maker(user):
        return user.unit_id
    return None


def visible_applications(user) -> QuerySet[Application]:
    """The cases `user` may read: their unit's, or all for administrators and superusers,
    and the cases of other units they hold emergency access to while it lasts.

    The unit is compared as the column's own type (`unit_id = 7::bigint`, not the plain
    integer `7`): the name search's index (`application_unit_search_trgm_idx`, a btree_gin
    column has no cross-type operators) then reads the unit's entries only, instead of
    ANDing the matches with a bitmap of every case of the unit. B-tree indexes answer both
    alike."""
    qs = Application.objects.all()
    scope = readable_unit(user)
    if scope is None:
        return qs.none()
    if scope == ALL_UNITS:
        return qs
    own_unit = Q(unit_id=Cast(Value(scope), BigIntegerField()))
    granted = predicates.granted_case_ids(user)
    if granted:
        return qs.filter(own_unit | Q(pk__in=granted))
    return qs.filter(own_unit)


def name_search_scope(user) -> dict:
    """What a name search within `visible_applications(user)` narrows its count by
    (`filters.NameSearch.counted`): the user's unit, whose cases the index of the unit's
    trigrams holds, and the cases of other units they hold emergency access to (`also`);
    nothing for a user of all units."""
    scope = readable_unit(user)
    if scope is None or scope == ALL_UNITS:
        return {}
    return {"unit": scope, "also": predicates.granted_case_ids(user)}


def visible_current_placements(user) -> QuerySet[Placement]:
    """The current placements of the cases `user` may read.

    Where the triggers keep the case's unit on the placement (PostgreSQL), a unit's
    placements are read through that copy (`placement_unit_current_idx`), without reading
    each person's case to see whose it is; elsewhere through `visible_applications`."""
    placements = Placement.objects.current()
    scope = readable_unit(user)
    if scope is None:
        return placements.none()
    if scope == ALL_UNITS:
        return placements
    if kept_by_triggers():
        return placements.filter(unit_id=scope)
    return placements.filter(application_id__in=visible_applications(user).values("pk"))


def visible_unassigned_open_cases(user) -> int:
    """How many of the open cases `user` may read nobody is assigned to (stored counts)."""
    scope = readable_unit(user)
    if scope is None:
        return 0
    return unassigned_open_cases(None if scope == ALL_UNITS else scope)


def emergency_candidate(user, reference: str) -> Application | None:
    """The case with exactly this reference that `user` could ask emergency access to: a
    case of another unit, asked for by a caseworker or decision-maker of some unit who may
    not read it now. None for everyone else, so that the answer reveals that a case exists
    only to people who may ask to open it (`cases:break_glass`)."""
    if readable_unit(user) in (None, ALL_UNITS) or not reference:
        return None
    case = (
        Application.objects.filter(reference=reference)
        .exclude(unit_id=user.unit_id)
        .select_related("unit")
        .first()
    )
    if case is None or case.pk in predicates.granted_case_ids(user):
        return None
    return case


def visible_cases_by_status(user) -> dict[str, int]:
    """How many of the cases `user` may read are in each status (stored counts)."""
    scope = readable_unit(user)
    if scope is None:
        return {}
    return cases_by_status(None if scope == ALL_UNITS else scope)


def visible_due_counts(user, now, until, *, mine: bool = False) -> tuple[int, int]:
    """How many open deadlines of the live cases `user` may read (`mine`: of those assigned
    to them) are overdue at `now`, and how many fall due from `now` until `until`: the
    unit's from the stored counts, a grant's case of another unit from its deadlines."""
    scope = readable_unit(user)
    if scope is None:
        return 0, 0
    unit = None if scope == ALL_UNITS else scope
    overdue, soon = due_counts(now, until, unit_id=unit, assignee_id=user.pk if mine else None)
    granted = predicates.granted_case_ids(user) if unit is not None else []
    if granted:
        others = (
            Deadline.objects.live()
            .filter(application_id__in=granted, due_at__lt=until)
            .exclude(application__unit_id=unit)
        )
        if mine:
            others = others.filter(application__assigned_to=user)
        more_overdue, more_soon = count_due(others, now, until)
        overdue, soon = overdue + more_overdue, soon + more_soon
    return overdue, soon


def visible_missed_count(user, since: dt.date) -> int:
    """How many deadlines of the cases `user` may read were missed (closed late) on `since`
    or later: the unit's from the stored counts, a grant's case of another unit from its
    deadlines."""
    scope = readable_unit(user)
    if scope is None:
        return 0
    unit = None if scope == ALL_UNITS else scope
    count = missed_count(since, unit_id=unit)
    granted = predicates.granted_case_ids(user) if unit is not None else []
    if granted:
        count += (
            Deadline.objects.missed_since(start_of_day(since))
            .filter(application_id__in=granted)
            .exclude(application__unit_id=unit)
            .count()
        )
    return count


def get_application_for_user(user, pk, *, write: bool = False, queryset=None) -> Application:
    """The case `pk` if `user` may read it (or work on it, with `write=True`); else 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if pk <= 0 or pk > 2**63 - 1:
        raise Http404
    base = queryset if queryset is not None else Application.objects.all()
    # The caller's query (what it joins) and the user's scope in one WHERE (`unit_id = ... AND
    # id = ...`): PostgreSQL plans it in half the time of a semi-join against the scope as a
    # subquery, on every page of a case.
    application = (base & visible_applications(user)).filter(pk=pk).order_by().first()
    if application is None:
        raise Http404
    if write and not can_work_on(user, application):
        raise Http404
    return application


def can_work_on(user, application: Application) -> bool:
    return user.has_perm("cases.work_on_case", application)


def can_see_access_log(user, application: Application) -> bool:
    return user.has_perm("cases.see_access_log", application)


@retried
def log_access(
    application: Application, user, request, *, what: str, durable: bool = False, **data
) -> None:
    """Record that `user` viewed, downloaded or exported something of the case.

    Kept off the main timeline (kind `access`); decision-makers and administrators see it in
    the case's access log. `what`: "case", "document", "export", "reveal"... `durable`: wait
    for the disk at commit, for a record that must exist before what it allows is shown (a
    reveal of sensitive facts); a plain view's record does not wait (see `record_event`).
    """
    from .audit import record_event
    from .models import CaseEvent

    record_event(
        application,
        kind=CaseEvent.Kind.ACCESS,
        action=what,
        actor=user,
        data={"ip": client_ip(request), **data},
        wait_for_disk=durable,  # a view's record, not a change: see record_event
    )


def document_download(request, case: Application, document_pk: int) -> HttpResponse:
    """A document of a case the caller already read through this door, served as an
    attachment with its stored content type (never cached); the download is recorded on the
    case's access log. 404 for another case's document or a file gone from the store; 503
    (plain text, nothing logged as read) while the document store does not answer. The page
    and the API serve downloads through this one function."""
    document = case.documents.filter(pk=document_pk).first() if 0 < document_pk < 2**63 else None
    if document is None:
        raise Http404
    from haven import storage

    if not document.file:
        raise Http404
    try:
        # Streamed from the store (MEDIA_ROOT or the S3 bucket), never a URL into it.
        handle, length = storage.open_stream(document.file.storage, document.file.name)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    except storage.STORE_ERRORS:
        response = HttpResponse(
            _("The document store is not answering: try again in a few minutes."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "60"
        return response
    log_access(case, request.user, request, what="document", document=document.pk)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["Content-Length"] = str(length)
    response["Cache-Control"] = "private, no-store"
    return response
