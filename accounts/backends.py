"""Sign-in protection: django-axes lockout after repeated failures.

`LockoutBackend` is axes's standalone backend, first in `AUTHENTICATION_BACKENDS`: it refuses
a sign-in while the (username, address) pair is locked out, and leaves the checking of
passwords to the backends after it. Axes needs the request to know the address; calls
without one (the test client's `login()`, `manage.py` commands, a shell) come from people who
already hold the process, not from the network, so the backend steps aside for them instead
of raising `AxesBackendRequestParameterRequired`. Every sign-in form of Haven passes the
request (Django's `LoginView` and the admin's do).

`lockout_response` is the answer to a locked-out attempt: the sign-in page again, with a
message that says what happened and for how long, and HTTP 429.
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.loader import select_template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LOCKOUT_TEMPLATES = ["accounts/lockout.html", "accounts/login.html"]


class LockoutBackend(AxesStandaloneBackend):
    """Axes's lockout check for sign-ins that come with a request; no opinion otherwise."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message(request: HttpRequest | None = None) -> str:
    cool_off = get_cool_off(request)
    if cool_off is None:
        return _(
            "Too many failed sign-in attempts for this account from your address. Sign-in is "
            "blocked until an administrator unlocks it."
        )
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    # Axes restarts the cool-off at every attempt made during a lockout: say so.
    return ngettext(
        "Too many failed sign-in attempts for this account from your address. Sign-in is "
        "blocked until %(minutes)s minute after the last attempt; wait, or ask an "
        "administrator to unlock it.",
        "Too many failed sign-in attempts for this account from your address. Sign-in is "
        "blocked until %(minutes)s minutes after the last attempt; wait, or ask an "
        "administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The sign-in page with the lockout message, answered with 429 Too Many Requests.

    The form keeps only the username that was typed: without a password its validation
    checks no credentials and counts no new failure.
    """
    username = ""
    if request.method == "POST":
        username = str(request.POST.get("username", ""))[:150]
    form = AuthenticationForm(request, data={"username": username})
    form.is_valid()
    form.errors.pop("password", None)  # "required": true, but not the point here
    message = lockout_message(request)
    form.add_error(None, message)
    template = select_template(LOCKOUT_TEMPLATES)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context = {"form": form, "lockout_message": message, "next": next_url}
    return HttpResponse(template.render(context, request), status=429)
