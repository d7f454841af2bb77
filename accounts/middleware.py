"""The signed-in user's own language, kept on the account."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
