"""Sign-in, sign-out, password change (Django's auth views), the second factor and the
user's sessions (namespace `accounts`)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView accepts POST only: the header has a sign-out form button.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("two-factor/", views.mfa_verify, name="mfa_verify"),
    path("two-factor/setup/", views.mfa_setup, name="mfa_setup"),
    path("two-factor/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    # Passkeys: the ceremonies (JSON, for django-otp-webauthn's script), its messages, removal.
    path(
        "two-factor/passkeys/register/begin/",
        views.passkey_register_begin,
        name="passkey_register_begin",
    ),
    path(
        "two-factor/passkeys/register/complete/",
        views.passkey_register_complete,
        name="passkey_register_complete",
    ),
    path("two-factor/passkeys/verify/begin/", views.passkey_auth_begin, name="passkey_auth_begin"),
    path(
        "two-factor/passkeys/verify/complete/",
        views.passkey_auth_complete,
        name="passkey_auth_complete",
    ),
    path("two-factor/passkeys/messages.js", views.passkey_jsi18n, name="passkey_jsi18n"),
    path("two-factor/passkeys/remove/", views.passkey_remove, name="passkey_remove"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/end/", views.session_end, name="session_end"),
]
