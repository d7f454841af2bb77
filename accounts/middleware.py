"""The signed-in user's own language, kept on the account; the second factor's gate."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation


class UserLanguageMiddleware:
    """Applies a signed-in user's language, and keeps the header switch's choice on the account.

    LocaleMiddleware (before authentication) picks a language from the language cookie or the
    browser's Accept-Language; that is all a signed-out page has. A signed-in user who chose a
    language (`User.language`) gets it instead, on every device and in every session, so the
    choice wins over the browser. When the header switch posts to Django's `set_language`, the
    view sets the cookie for this browser and this middleware saves the choice on the account.
    Placed after AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.language in dict(settings.LANGUAGES):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        match = request.resolver_match
        if (
            match is not None
            and match.url_name == "set_language"
            and request.method == "POST"
            and user.is_authenticated
        ):
            self._keep_choice(request, response)
        return response

    @staticmethod
    def _keep_choice(request: HttpRequest, response: HttpResponse) -> None:
        """Save the switch's choice on the account (an unknown language is ignored, as
        `set_language` itself ignores it), and answer in the chosen language from now on."""
        chosen = request.POST.get("language", "")
        if chosen not in dict(settings.LANGUAGES) or response.status_code not in (200, 204, 302):
            return
        user = request.user
        if user.language != chosen:
            user.language = chosen
            user.save(update_fields=["language"])
        translation.activate(chosen)


class SecondFactorMiddleware:
    """With MFA_REQUIRED, a session signed in with a password alone reaches only the pages of
    the second factor: every other page, the admin, document downloads and the API's pages for
    people send it to enter its code (a user with a device) or to enrol one (a user without).

    Placed after django-otp's OTPMiddleware (`request.user.is_verified()`). Requests of the
    REST API carrying `Authorization: Bearer` are not sessions: the token is their credential
    (DRF refuses a bad one with 401), so they pass. Signed-out requests pass too: the views'
    own sign-in requirement answers them.
    """

    # URL names a password-only session may reach: signing in and out, the language switch,
    # the machines' endpoints, and the second-factor pages themselves (which check again).
    OPEN = frozenset(
        {
            "accounts:login",
            "accounts:logout",
            "accounts:mfa_verify",
            "accounts:mfa_setup",
            # Passkeys: enrolment (refused by the view to a user who has a device but has not
            # given it) and the passkey as the second factor, with the script's messages.
            "accounts:passkey_register_begin",
            "accounts:passkey_register_complete",
            "accounts:passkey_auth_begin",
            "accounts:passkey_auth_complete",
            "accounts:passkey_jsi18n",
            "admin:login",
            "admin:logout",
            "set_language",
            "health",
            "metrics",
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        from . import mfa

        if not mfa.required():
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.OPEN:
            return None
        if match is not None and match.namespace == "api" and _bearer(request):
            return None
        target = "accounts:mfa_verify" if mfa.has_device(user) else "accounts:mfa_setup"
        url = reverse(target)
        if request.method in ("GET", "HEAD"):
            url += "?" + urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(url)


def _bearer(request: HttpRequest) -> bool:
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    return bool(parts) and parts[0].lower() == "bearer"
