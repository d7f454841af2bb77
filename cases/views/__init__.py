"""The caseworker web UI, one module per page family.

Views are thin (STYLE.md 9): sign-in required; the case comes through `cases.access` (missing
and forbidden both answer 404); input goes through a form; every change is a POST that calls
`cases.workflow` and redirects (POST/redirect/GET) with a message. A refused change answers
with the workflow's status code (403 not allowed, 409 the case changed) and a page that says
why; bad input re-renders the form with messages beside the fields and what was typed.

Pages that show many rows (the timeline, the case list) build each row's text in Python with
a fixed number of queries, so that templates stay flat loops and the query count does not
grow with the rows. The timeline's rows come from `cases.timeline`, which knows no request.

The names below are the views that `cases.urls` routes to.
"""

from __future__ import annotations

from .breakglass import break_glass, extend_break_glass, revoke_break_glass
from .dashboard import dashboard
from .detail import case_detail
from .facilities import facilities
from .intake import intake
from .lists import bulk_assign, case_list
from .notifications import notifications, notifications_read
from .records import add_document, add_note, document_download
from .sensitive import reveal
from .transitions import assign, case_action, transition, waive_deadline

__all__ = [
    "add_document",
    "add_note",
    "assign",
    "break_glass",
    "bulk_assign",
    "case_action",
    "case_detail",
    "case_list",
    "dashboard",
    "document_download",
    "extend_break_glass",
    "revoke_break_glass",
    "facilities",
    "intake",
    "notifications",
    "notifications_read",
    "reveal",
    "transition",
    "waive_deadline",
]
