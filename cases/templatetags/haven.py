"""Template helpers of the caseworker UI."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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


@register.filter
def stamp(value, precision: str = "minute") -> str:
    """A date or a moment as the UI writes them, in Vilnius time: `2024-08-11` ("day"),
    `2024-08-11 14:05` (the default), `2024-08-11 14:05:09` ("second"), or ISO 8601 for a
    `<time datetime>` ("iso"); "" for nothing.

    What `|date:"Y-m-d H:i"` prints, without Django's general formatter, which parses its
    format and looks up translations character by character: a case page writes some
    three hundred dates.
    """
    if not isinstance(value, dt.date):
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if precision == "iso":
        return value.isoformat()
    day = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if precision == "day" or not isinstance(value, dt.datetime):
        return day
    minute = f"{day} {value.hour:02d}:{value.minute:02d}"
    return f"{minute}:{value.second:02d}" if precision == "second" else minute


@register.filter
def unless_hidden(applicant, name: str) -> str:
    """The applicant's field `name`, or "" while it is a hidden sensitive fact (pages that
    name the applicant outside the case page, which alone offers a recorded reveal)."""
    from cases.models import hidden_facts

    if f"applicant.{name}" in hidden_facts():
        return ""
    return getattr(applicant, name, "") or ""


@register.simple_tag
def timeline_row(row: dict) -> SafeString:
    """One timeline entry's content (when, by whom, what, details, link, text, reason).

    The markup of a small template, written here: the case page shows fifty entries or more
    and an `{% include %}` per entry was a fifth of its rendering."""
    at = row["at"]
    shown = stamp(at, "day") if row["day_only"] else stamp(at)
    recorded = row["recorded_at"]
    recorded = (
        f' <span class="muted">({_("recorded")} {stamp(recorded)})</span>' if recorded else ""
    )
    because = f", {conditional_escape(row['because'])}" if row["because"] else ""
    parts = [
        f'<div class="timeline__meta"><time datetime="{stamp(at, "iso")}">{shown}</time>'
        f'{recorded} · <span class="timeline__by">{conditional_escape(row["actor"])}{because}'
        f'</span> · <span class="muted">{conditional_escape(row["kind_label"])}</span></div>',
        f'<div class="timeline__title">{conditional_escape(row["title"])}</div>',
    ]
    if row["details"]:
        parts.append(f'<div class="timeline__details">{conditional_escape(row["details"])}</div>')
    if row["link"]:
        parts.append(
            f'<div><a href="{conditional_escape(row["link"])}">'
            f"{conditional_escape(row['link_text'])}</a></div>"
        )
    if row["text"]:
        parts.append(f'<div class="timeline__text">{linebreaksbr(row["text"], True)}</div>')
    if row["reason"]:
        parts.append(
            f'<div class="timeline__reason"><span class="muted">{_("Reason")}:</span> '
            f"{linebreaksbr(row['reason'], True)}</div>"
        )
    return mark_safe("\n".join(parts))  # noqa: S308 - every value above is escaped


def _timeline_item(row: dict, system: bool, content: str) -> str:
    modifier = " timeline__item--system" if system else ""
    return (
        f'<li class="timeline__item timeline__item--{conditional_escape(row["kind"])}'
        f'{modifier}" id="event-{int(row["id"])}">{content}</li>'
    )


@register.simple_tag
def timeline_items(rows: list[dict]) -> SafeString:
    """The timeline's entries (`TimelineBuilder.grouped` rows), each with what Haven did as a
    result listed under it.

    The markup of the loop the case page's template held, written here: its per-entry nodes
    (the item, its conditions, the nested list) cost more than the entries' content."""
    label = conditional_escape(_("What Haven did as a result"))
    items = []
    for row in rows:
        content = timeline_row(row)
        nested = row.get("system_rows")
        if nested:
            inner = "\n".join(_timeline_item(r, True, timeline_row(r)) for r in nested)
            content += f'\n<ul class="timeline__consequences" aria-label="{label}">\n{inner}\n</ul>'
        items.append(_timeline_item(row, row["system"], content))
    return mark_safe("\n".join(items))  # noqa: S308 - every value is escaped by timeline_row or here


@register.simple_tag
def urgent_deadline_rows(rows: list[dict]) -> SafeString:
    """The dashboard's deadlines table body: one row per deadline (`_deadline_row` with the
    case's `case_url`, `reference` and `applicant`), overdue ones marked.

    The markup of the loop the dashboard's template held, written here: fifty rows of
    template nodes were a sixth of the dashboard."""
    lines = []
    for row in rows:
        if row["hours"]:
            iso, shown = stamp(row["due_at"], "iso"), stamp(row["due_at"])
        else:
            iso = shown = stamp(row["due_on"], "day")
        marked = ' class="row--overdue"' if row["overdue"] else ""
        tag = "tag tag--danger" if row["overdue"] else "tag tag--warning"
        source = (
            f'<span class="source">{conditional_escape(row["legal_source"])}</span>'
            if row["legal_source"]
            else ""
        )
        lines.append(
            f"<tr{marked}>"
            f'<td class="nowrap"><time class="date" datetime="{iso}">{shown}</time></td>'
            f'<td><span class="{tag}">{conditional_escape(row["days_text"])}</span></td>'
            f'<td class="cell--wrap">{conditional_escape(row["name"])}{source}</td>'
            f'<td class="cell--wrap"><a href="{conditional_escape(row["case_url"])}" class="ref">'
            f"{conditional_escape(row['reference'])}</a>"
            f'<span class="source">{conditional_escape(row["applicant"])}</span></td></tr>'
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped above
