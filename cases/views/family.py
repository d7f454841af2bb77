"""The case page's Family section: the applicant's family links, read from this side, and
the forms that record and remove them.

A link names the relative (and links to their newest case) only for a reader of one of the
relative's cases, through the one door (`access.visible_applications`). Anyone else sees the
relation and "a family member's case you cannot open": the link itself says that the
applicant has such a relative with a case in Haven (a fact about this case's applicant, whom
the reader may read), never who they are nor where their case is.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .. import access, forms
from ..labels import label, person
from ..models import Applicant, Application, FamilyLink
from ..workflow.family import links_of


def family_rows(case: Application, user) -> list[dict[str, Any]]:
    """The applicant's family links, oldest first: the relation as read from this side,
    and the relative's name and newest readable case when the user may read one."""
    links = list(links_of(case.applicant_id).select_related("recorded_by"))
    if not links:
        return []
    others = {link.pk: link.seen_from(case.applicant_id) for link in links}
    newest: dict[int, dict[str, Any]] = {}
    readable = (
        access.visible_applications(user)
        .filter(applicant_id__in={other for other, _relation in others.values()})
        .order_by("applicant_id", "-submitted_on", "-pk")
        .values("pk", "reference", "applicant_id")
    )
    for row in readable:
        newest.setdefault(row["applicant_id"], row)
    names = {
        applicant.pk: applicant.full_name
        for applicant in Applicant.objects.filter(pk__in=newest).only("family_name", "given_names")
    }
    rows = []
    for link in links:
        other, relation = others[link.pk]
        seen = newest.get(other)
        rows.append(
            {
                "pk": link.pk,
                "code": relation,
                "relation": label(FamilyLink.Relation, relation),
                "name": names.get(other, "") if seen else "",
                "reference": seen["reference"] if seen else "",
                "url": reverse("cases:detail", args=[seen["pk"]]) if seen else "",
                "recorded_at": link.recorded_at,
                "recorded_by": person(link.recorded_by),
            }
        )
    return rows


def family_context(case: Application, user, *, can_work: bool) -> dict[str, Any]:
    """What the Family section shows: the links, and the forms for a user who may work on
    the open case (the workflow checks everything again)."""
    may_change = can_work and case.is_open
    return {
        "family": family_rows(case, user),
        "family_form": forms.empty_form_html(forms.FamilyLinkForm, auto_id="family_link_%s")
        if may_change
        else None,
        "family_link_url": reverse("cases:action", args=[case.pk, "family_link"]),
        "family_unlink_url": reverse("cases:action", args=[case.pk, "family_unlink"]),
        "family_may_unlink": may_change,
    }
