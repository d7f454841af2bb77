"""Template helpers of the caseworker UI."""

from __future__ import annotations

from django import template

from cases.models import Notification

register = template.Library()

UNREAD_CAP = 99


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> str:
    """The signed-in user's unread notifications for the page header ("99+" past 99).

    One small query on the partial index of unread notifications; counted at most to 100.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    count = (
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .order_by()[: UNREAD_CAP + 1]
        .count()
    )
    if count > UNREAD_CAP:
        return f"{UNREAD_CAP}+"
    return str(count)
