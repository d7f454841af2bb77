"""`{% export_links %}`: the list's CSV and XLSX links, carrying the page's filters."""

from __future__ import annotations

from django import template

from ..exports import FORMATS, NOT_FILTERS

register = template.Library()


@register.inclusion_tag("reports/export_links.html", takes_context=True)
def export_links(context) -> dict:
    request = context["request"]
    links = []
    for fmt in FORMATS:
        params = request.GET.copy()
        for key in NOT_FILTERS:
            params.pop(key, None)
        params["format"] = fmt
        links.append({"label": fmt.upper(), "url": f"{request.path}?{params.urlencode()}"})
    return {"links": links}
