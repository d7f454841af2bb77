"""Passkeys (WebAuthn) as a second factor beside the authenticator app, on django-otp-webauthn.

The library keeps the credentials (`WebAuthnCredential`, a django-otp device: a session that
used one is verified like one that entered a code, `user.is_verified()`), runs the ceremonies
(its begin/complete views, subclassed in accounts.views) and ships the browser script (a
static file, so the strict Content Security Policy holds). This module holds what Haven adds:

- the relying party's origins: the settings' https origins, and the request's own origin when
  its host (already checked against ALLOWED_HOSTS) is within the relying party's domain;
- what happens when a passkey is added (named, recorded, and recovery codes issued when it is
  the user's first second factor), used (recorded; the lockout's count forgotten), refused
  (recorded and counted by the lockout as a failed sign-in, like a wrong code) or removed by
  its owner (recorded; never the last second factor).

An administrator's reset (accounts.mfa.reset_devices) removes passkeys with the other devices:
django-otp lists every device model.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from . import mfa
from .models import SecurityEvent, User

PASSKEY_NAME = "Passkey"


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper with Haven's origins and device names."""

    def get_allowed_origins(self) -> list[str]:
        origins = list(super().get_allowed_origins())
        own = _request_origins(self.request)
        return origins + [o for o in own if o not in origins]

    def create_credential(self, user, response, parsed_credential, original_data):
        device = super().create_credential(user, response, parsed_credential, original_data)
        device.name = PASSKEY_NAME
        return device


def _request_origins(request: HttpRequest) -> list[str]:
    """The origin of this request, when its host lies within the relying party's domain.

    `get_host()` has checked the host against ALLOWED_HOSTS. A browser signs the origin it is
    on; it offers passkeys only on https pages and on localhost, so https is accepted for
    every host of the domain (a TLS proxy that does not pass the scheme on still works) and
    http for localhost (development and tests, on any port)."""
    from django.conf import settings

    rp_id = settings.OTP_WEBAUTHN_RP_ID
    host = request.get_host()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name != rp_id and not name.endswith("." + rp_id):
        return []
    origins = [f"https://{host}"]
    if name == "localhost" or name.endswith(".localhost"):
        origins.append(f"http://{host}")
    return origins


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user).order_by("created_at", "pk"))


def added(request: HttpRequest, device: WebAuthnCredential) -> list[str] | None:
    """A passkey was just registered for the signed-in user: record it, and issue recovery
    codes when the user had none (their first second factor). Returns the new codes, to be
    shown once, or None. The library has verified the session already."""
    user = request.user
    codes = None
    if not mfa.has_recovery_codes(user):
        codes = mfa.issue_recovery_codes(user)
    mfa.record(
        user, SecurityEvent.Kind.MFA_ENROLLED, request=request, device="passkey", id=device.pk
    )
    mfa.forget_failures(request, user)
    return codes


def used(request: HttpRequest, device: WebAuthnCredential) -> None:
    """The signed-in user's passkey answered the challenge: the session is verified (by the
    library); record it and forget the failures counted by the lockout."""
    mfa.record(
        request.user,
        SecurityEvent.Kind.MFA_VERIFIED,
        request=request,
        device="passkey",
        id=device.pk,
    )
    mfa.forget_failures(request, request.user)


def refused(request: HttpRequest, code: str) -> None:
    """A passkey's answer was refused (not the user's, a bad signature, no challenge asked):
    recorded and counted by the lockout like a wrong code."""
    mfa.count_failure(request, request.user, what="passkey", code=code)


def remove(request: HttpRequest, passkey_id: str) -> bool:
    """Remove one of the signed-in user's own passkeys (`passkey_id`, as posted). The user
    keeps at least one other second factor (an authenticator app or another passkey):
    otherwise nothing is removed and a ValidationError says why. False when the id names none
    of their passkeys."""
    user = request.user
    if not (passkey_id.isascii() and passkey_id.isdigit()) or len(passkey_id) > 18:
        return False
    with transaction.atomic():
        # Lock the user's passkeys so that two removals at once cannot both pass the check.
        mine = list(WebAuthnCredential.objects.select_for_update().filter(user=user))
        device = next((d for d in mine if d.pk == int(passkey_id)), None)
        if device is None:
            return False
        others = [d for d in mine if d.pk != device.pk and d.confirmed]
        if not others and not mfa.has_authenticator(user):
            raise ValidationError(
                _(
                    "This is your only passkey and you have no authenticator app: add another "
                    "passkey or set up the app before removing it."
                )
            )
        device.delete()
        mfa.record(
            user,
            SecurityEvent.Kind.MFA_REMOVED,
            request=request,
            device="passkey",
            id=int(passkey_id),
        )
    return True
