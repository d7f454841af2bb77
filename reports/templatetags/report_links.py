"""`{% reports_nav_item %}`: the Reports item of the main menu, for those who may see them."""

from __future__ import annotations

from django import template

from cases import access

register = template.Library()


@register.inclusion_tag("reports/nav_item.html", takes_context=True)
def reports_nav_item(context) -> dict:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return {
        "show": access.report_unit(getattr(request, "user", None)) is not None,
        "current": bool(match and match.namespace == "reports"),
    }
