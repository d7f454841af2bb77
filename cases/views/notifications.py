"""The user's in-app notifications: the list, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..models import Notification
from .common import _positive_int, _safe_link, int_or_none


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    items = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    paginator = Paginator(items, 50)
    page = paginator.get_page(_positive_int(request.GET.get("page"), 1))
    rows = [
        {
            "pk": n.pk,
            "text": n.text,
            "link": _safe_link(n.link),
            "created_at": n.created_at,
            "unread": n.read_at is None,
        }
        for n in page.object_list
    ]
    return render(
        request,
        "cases/notification_list.html",
        {"rows": rows, "page": page, "any_unread": any(r["unread"] for r in rows)},
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (`notification` = its id) or all unread ones as read."""
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    one = int_or_none(request.POST.get("notification", ""))
    if one is not None:
        done = unread.filter(pk=one).update(read_at=timezone.now())
    else:
        done = unread.update(read_at=timezone.now())
    messages.success(
        request,
        ngettext("%(n)d notification marked as read.", "%(n)d notifications marked as read.", done)
        % {"n": done},
    )
    return redirect("cases:notifications")
