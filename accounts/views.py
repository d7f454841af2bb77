"""Sign-in and password change (Django's auth views, with forms labelled like the rest of
the UI: no trailing colon after a label), the second factor's pages (accounts.mfa) and the
user's own sessions (accounts.sessions)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from . import mfa, passkeys, sessions
from .backends import lockout_response


class LoginForm(auth_forms.AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:password_change_done")


# -- second factor ---------------------------------------------------------------------------


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app, or a recovery code."""

    otp_token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _next_url(request: HttpRequest) -> str:
    """Where to go after the second factor: the page first asked for, if it is ours."""
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _locked_out(request: HttpRequest) -> HttpResponse:
    """Too many failed codes (or passwords): the session ends, and the lockout page says so."""
    logout(request)
    return lockout_response(request)


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code of the user's authenticator, a recovery code, or one of
    their passkeys (the button answers through the passkey views below)."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not mfa.has_device(user):
        return redirect("accounts:mfa_setup")
    if mfa.is_locked_out(request, user):
        return _locked_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify(request, form.cleaned_data["otp_token"]):
            return redirect(_next_url(request))
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request)
        form.add_error("otp_token", _("That code is not right. Enter the current code."))
    has_passkey = mfa.has_passkey(user)
    return render(
        request,
        "accounts/mfa_verify.html",
        {
            "form": form,
            "next": _next_url(request),
            "has_passkey": has_passkey,
            "has_authenticator": mfa.has_authenticator(user),
            "passkey_config": passkey_config(request) if has_passkey else None,
        },
        status=400 if form.errors else 200,
    )


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a second factor: an authenticator app (scan the QR code or type the secret, enter
    its code) or a passkey (the button answers through the passkey views below).

    Reached right after the password by a user without a second factor. A user who has one
    but has not entered it in this session is sent to enter it first: a password alone never
    adds a device. An enrolled, verified user sees what they have (their passkeys, to add or
    remove; the authenticator app, to set up with `?add=app` when they have none)."""
    user = request.user
    verified = user.is_verified()
    if not verified and mfa.has_device(user):
        return redirect(reverse("accounts:mfa_verify") + "?" + request.GET.urlencode())
    has_authenticator = mfa.has_authenticator(user)
    wants_app = not has_authenticator and (
        request.method == "POST" or request.GET.get("add") == "app"
    )
    if verified and (has_authenticator or mfa.has_passkey(user)) and not wants_app:
        return render(
            request,
            "accounts/mfa_status.html",
            {
                "codes_left": _codes_left(user),
                "enrolled": True,
                "has_authenticator": has_authenticator,
                "passkeys": passkeys.passkeys_of(user),
                "passkey_config": passkey_config(request),
            },
        )
    device = mfa.pending_authenticator(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.is_locked_out(request, user):
            return _locked_out(request)
        codes = mfa.confirm_authenticator(request, device, form.cleaned_data["otp_token"])
        if codes is not None:
            request.session[NEW_CODES] = codes
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(
                reverse("accounts:mfa_recovery_codes")
                + "?"
                + urlencode({REDIRECT_FIELD_NAME: _next_url(request)})
            )
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request)
        form.add_error("otp_token", _("That code is not right. Enter the current code."))
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr_code": mfa.qr_code(device),
            "secret": mfa.secret_text(device),
            "next": _next_url(request),
            # A verified user adding the app to their passkeys: no second passkey offered here.
            "passkey_config": None if verified else passkey_config(request),
        },
        status=400 if form.errors else 200,
    )


# -- passkeys (django-otp-webauthn's ceremonies, with Haven's records, lockout and words) -----


def passkey_config(request: HttpRequest) -> dict:
    """What django-otp-webauthn's browser scripts read from the page (a JSON data block)."""
    return {
        "csrfToken": get_token(request),
        "beginRegistrationUrl": reverse("accounts:passkey_register_begin"),
        "completeRegistrationUrl": reverse("accounts:passkey_register_complete"),
        "beginAuthenticationUrl": reverse("accounts:passkey_auth_begin"),
        "completeAuthenticationUrl": reverse("accounts:passkey_auth_complete"),
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "#mfa-next",
    }


class LockedOut(webauthn_errors.OTPWebAuthnApiError):
    status_code = 429
    default_code = "locked_out"


def _passkey_message(exc: webauthn_errors.OTPWebAuthnApiError, *, registering: bool) -> str:
    """The refusal in Haven's words and the user's language (the library has no Lithuanian,
    and its texts speak of technical causes)."""
    if exc.code == "locked_out":
        return _("Too many failed attempts: sign-in is locked for a while.")
    if exc.code == "user_not_verified":
        return _("Enter your code first: a passkey is added only after the second factor.")
    if exc.code == "invalid_state":
        return _("That request has expired. Try again.")
    if exc.code in ("credential_not_found", "credential_user_mismatch"):
        return _("This passkey is not one of yours for Haven. Use your own, or enter a code.")
    if registering:
        return _("The passkey could not be added. Try again.")
    return _("The passkey could not be checked. Try again, or enter a code.")


class _PasskeyView:
    registering = False

    def handle_exception(self, exc):
        if isinstance(exc, webauthn_errors.OTPWebAuthnApiError):
            self.refused(exc)
            if getattr(self.request, "axes_locked_out", False):
                exc = LockedOut()
            return JsonResponse(
                {"detail": _passkey_message(exc, registering=self.registering), "code": exc.code},
                status=exc.status_code,
            )
        return super().handle_exception(exc)

    def refused(self, exc) -> None:
        """A refusal that counts as a failed sign-in (a passkey's answer, not a request)."""

    def check_not_locked_out(self) -> None:
        user = self.request.user
        if user.is_authenticated and mfa.is_locked_out(self.request, user):
            raise LockedOut()


class PasskeyRegisterBegin(_PasskeyView, webauthn_views.BeginCredentialRegistrationView):
    registering = True

    def check_can_register(self):
        self.check_not_locked_out()


class PasskeyRegisterComplete(_PasskeyView, webauthn_views.CompleteCredentialRegistrationView):
    """Registers the passkey (the library), then records it and, for a first second factor,
    issues recovery codes; answers where the page goes next: the codes, or the overview."""

    registering = True

    def check_can_register(self):
        self.check_not_locked_out()

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        device = WebAuthnCredential.objects.get(
            pk=json.loads(response.content)["id"], user=self.request.user
        )
        codes = passkeys.added(self.request, device)
        messages.success(self.request, _("Your passkey is added."))
        if codes:
            self.request.session[NEW_CODES] = codes
            url = reverse("accounts:mfa_recovery_codes")
        else:
            url = reverse("accounts:mfa_setup")
        return JsonResponse({"id": device.pk, "redirect_url": url})


class PasskeyAuthBegin(_PasskeyView, webauthn_views.BeginCredentialAuthenticationView):
    def check_can_authenticate(self):
        self.check_not_locked_out()
        super().check_can_authenticate()


class PasskeyAuthComplete(_PasskeyView, webauthn_views.CompleteCredentialAuthenticationView):
    def check_can_authenticate(self):
        self.check_not_locked_out()
        super().check_can_authenticate()

    # Refusals of a well-formed answer to a challenge this session asked for: each is a guess
    # and counts for the lockout. A request without a challenge, or a malformed one, cannot
    # guess anything and is only refused.
    COUNTED = frozenset(
        {
            "credential_not_found",
            "credential_user_mismatch",
            "credential_disabled",
            "invalid_authentication_response",
        }
    )

    def refused(self, exc) -> None:
        if self.request.user.is_authenticated and exc.code in self.COUNTED:
            passkeys.refused(self.request, exc.code)

    def complete_auth(self, device):
        super().complete_auth(device)
        passkeys.used(self.request, device)

    def get_success_url(self):
        return _next_url(self.request)


passkey_register_begin = login_required(PasskeyRegisterBegin.as_view())
passkey_register_complete = login_required(PasskeyRegisterComplete.as_view())
passkey_auth_begin = login_required(PasskeyAuthBegin.as_view())
passkey_auth_complete = login_required(PasskeyAuthComplete.as_view())
# The library's script messages; their Lithuanian is in locale/lt/LC_MESSAGES/djangojs.po.
passkey_jsi18n = login_required(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]))


@login_required
@require_POST
def passkey_remove(request: HttpRequest) -> HttpResponse:
    """Remove one of the user's own passkeys (`passkey`: its id); never their last second
    factor."""
    try:
        removed = passkeys.remove(request, str(request.POST.get("passkey", "")))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if removed:
            messages.success(request, _("The passkey was removed."))
        else:
            messages.error(request, _("That passkey is not one of yours, or it was removed."))
    return redirect("accounts:mfa_setup")


NEW_CODES = "_haven_new_recovery_codes"


def _codes_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__name=mfa.RECOVERY_NAME).count()


@login_required
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes just issued (shown once), or how many are left and a form that
    renews them with a current code of the authenticator."""
    user = request.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.is_locked_out(request, user):
            return _locked_out(request)
        codes = mfa.renew_recovery_codes(request, form.cleaned_data["otp_token"])
        if codes is not None:
            request.session[NEW_CODES] = codes
            messages.success(request, _("New recovery codes issued; the old ones no longer work."))
            return redirect("accounts:mfa_recovery_codes")
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request)
        form.add_error("otp_token", _("That code is not right. Enter the current code."))
    codes = request.session.pop(NEW_CODES, None) if request.method == "GET" else None
    return render(
        request,
        "accounts/mfa_recovery_codes.html",
        {
            "codes": codes,
            "codes_left": _codes_left(user),
            "form": form,
            "has_authenticator": mfa.has_authenticator(user),
            "next": _next_url(request),
        },
        status=400 if form.errors else 200,
    )


# -- sessions --------------------------------------------------------------------------------


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    """The user's signed-in sessions: browser, address, last use; each can be ended."""
    current = request.session.session_key
    rows = [
        {
            "id": row.pk,
            "device": sessions.describe_agent(row.user_agent),
            "ip": row.ip or "",
            "started_at": row.started_at,
            "last_seen": row.last_seen,
            "current": row.session_key == current,
        }
        for row in sessions.active_sessions(request.user)
    ]
    return render(request, "accounts/session_list.html", {"sessions": rows})


@login_required
@require_POST
def session_end(request: HttpRequest) -> HttpResponse:
    """End one session (`session`: its id) or all the others (`session=others`)."""
    chosen = request.POST.get("session", "")
    if chosen == "others":
        ended = sessions.end_other_sessions(request.user, request=request)
        messages.success(
            request,
            ngettext("%(n)d other session ended.", "%(n)d other sessions ended.", ended)
            % {"n": ended},
        )
    elif sessions.end_session(request.user, chosen, request=request):
        messages.success(request, _("The session was ended."))
    else:
        messages.error(request, _("That session is not one of yours, or it has already ended."))
    if request.session.session_key is None or not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect("accounts:sessions")
