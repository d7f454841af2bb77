"""Sign-in and password change (Django's auth views, with forms labelled like the rest of
the UI: no trailing colon after a label), the second factor's pages (accounts.mfa) and the
user's own sessions (accounts.sessions)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from . import mfa, sessions
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
    """After the password: the code of the user's authenticator, or a recovery code."""
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
    return render(
        request,
        "accounts/mfa_verify.html",
        {"form": form, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the secret), enter its code.

    Reached right after the password by a user without a second factor. A user who has one
    but has not entered it in this session is sent to enter it first: a password alone never
    adds a device. An enrolled, verified user sees what they have."""
    user = request.user
    verified = user.is_verified()
    if not verified and mfa.has_device(user):
        return redirect(reverse("accounts:mfa_verify") + "?" + request.GET.urlencode())
    if verified and mfa.has_authenticator(user):
        return render(
            request,
            "accounts/mfa_status.html",
            {"codes_left": _codes_left(user), "enrolled": True},
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
        },
        status=400 if form.errors else 200,
    )


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
