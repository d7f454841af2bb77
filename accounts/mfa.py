"""The second factor: an authenticator app (TOTP), passkeys (accounts.passkeys) and single-use
recovery codes, on django-otp.

django-otp keeps the devices (`TOTPDevice`, `StaticDevice` with its tokens) and marks a
session verified (`django_otp.login`, read back by its `OTPMiddleware` as
`request.user.is_verified()`). This module holds what Haven adds around it:

- enrolment: an unconfirmed authenticator is made, its secret shown (QR code and text), and
  confirmed by its first code; confirming also issues the recovery codes and verifies the
  session;
- verification after the password, with every refused code counted by the lockout (axes) as
  a failed sign-in, and the count forgotten only once the code was right;
- an administrator's reset of a user's devices, with a reason;
- a `SecurityEvent` for each of these (who, whose account, when, from where).

Whether a second factor is asked for at all is `settings.MFA_REQUIRED` (always with DEBUG
off); `accounts.middleware.SecondFactorMiddleware` enforces it.
"""

from __future__ import annotations

import base64

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .addresses import client_ip
from .models import SecurityEvent, User

AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def required() -> bool:
    """Whether signed-in sessions need a second factor (always with DEBUG off)."""
    return bool(settings.MFA_REQUIRED)


def has_device(user: User) -> bool:
    """Whether `user` has a confirmed second factor (an authenticator, a passkey or recovery
    codes)."""
    return user_has_device(user, confirmed=True)


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_passkey(user: User) -> bool:
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def record(
    user: User,
    kind: str,
    *,
    request=None,
    actor: User | None = None,
    reason: str = "",
    **data,
) -> SecurityEvent:
    """Write one security event of `user`'s account (done by `actor`, by default the user)."""
    return SecurityEvent.objects.create(
        user=user,
        actor=actor if actor is not None else user,
        kind=kind,
        ip=(client_ip(request) or None) if request is not None else None,
        reason=reason,
        data=data,
    )


# -- enrolment ------------------------------------------------------------------------------


def pending_authenticator(user: User) -> TOTPDevice:
    """The authenticator being enrolled: the user's unconfirmed TOTP device, made if none.

    Kept across page loads (the secret must not change while the user is typing it), and
    replaced by nothing else until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_code(device: TOTPDevice) -> str:
    """The enrolment QR code as an SVG data URI for an <img> (no script, no inline style)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2)


def confirm_authenticator(request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm `device` with its first code: it becomes the user's authenticator, recovery
    codes are issued (returned, to be shown once) and this session is verified. None, and a
    counted failure, when the code is wrong."""
    user = request.user
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
        if locked is None or locked.confirmed or not locked.verify_token(_clean(token)):
            failed = True
        else:
            failed = False
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            codes = issue_recovery_codes(user)
            record(user, SecurityEvent.Kind.MFA_ENROLLED, request=request, device="totp")
    if failed:
        count_failure(request, user, what="enrolment")
        return None
    otp_login(request, locked)
    forget_failures(request, user)
    return codes


def renew_recovery_codes(request, token: str) -> list[str] | None:
    """New recovery codes for the signed-in, verified user, who proves it with a current
    code of their authenticator (the old codes stop working). None when the code is wrong."""
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not device.verify_token(_clean(token)):
            codes = None
        else:
            codes = issue_recovery_codes(user)
            record(user, SecurityEvent.Kind.RECOVERY_CODES_RENEWED, request=request)
    if codes is None:
        count_failure(request, user, what="renewal")
    return codes


def has_recovery_codes(user: User) -> bool:
    return StaticDevice.objects.filter(user=user, name=RECOVERY_NAME).exists()


def issue_recovery_codes(user: User) -> list[str]:
    """New recovery codes for `user` (the old ones stop working); returned to be shown once."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


# -- sign-in --------------------------------------------------------------------------------


def is_locked_out(request, user: User) -> bool:
    """Whether axes locks this user out from this address (password or code failures)."""
    return AxesProxyHandler.is_locked(request, credentials={"username": user.get_username()})


def verify(request, token: str) -> bool:
    """Check a code from the authenticator or a recovery code (which is then used up) for the
    signed-in user; on success the session is verified. A wrong code counts as a failed
    sign-in for the lockout and is recorded."""
    user = request.user
    token = _clean(token)
    matched = None
    if token:
        with transaction.atomic():
            for device in devices_for_user(user, confirmed=True, for_verify=True):
                if device.verify_token(token):
                    matched = device
                    break
    if matched is None:
        count_failure(request, user, what="sign-in")
        return False
    otp_login(request, matched)
    kind = (
        SecurityEvent.Kind.RECOVERY_CODE_USED
        if isinstance(matched, StaticDevice)
        else SecurityEvent.Kind.MFA_VERIFIED
    )
    left = matched.token_set.count() if isinstance(matched, StaticDevice) else None
    record(user, kind, request=request, **({"codes_left": left} if left is not None else {}))
    forget_failures(request, user)
    return True


def _clean(token: str) -> str:
    return "".join(str(token or "").split())[:64]


def count_failure(request, user: User, *, what: str, **data) -> None:
    """A refused code (or passkey): recorded, and counted by the lockout."""
    record(user, SecurityEvent.Kind.MFA_FAILED, request=request, step=what, **data)
    # Axes counts it exactly as a wrong password (same username and address).
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


def forget_failures(request, user: User) -> None:
    """The sign-in is complete: forget the failures of this username from this address."""
    axes_reset(ip=client_ip(request), username=user.get_username())


def password_sign_in_complete(request, user: User) -> None:
    """Called at sign-in: when no second factor will be asked, the sign-in is complete."""
    if request is not None and not required() and "SERVER_NAME" in request.META:
        forget_failures(request, user)


# -- administration -------------------------------------------------------------------------


def reset_devices(user: User, *, actor: User, reason: str, request=None) -> int:
    """Remove all of `user`'s second-factor devices (a lost phone): at their next page they
    are led to enrol again. The reason is required and recorded. Returns how many devices."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for resetting the second factor."))
    with transaction.atomic():
        removed = 0
        for device in list(devices_for_user(user, confirmed=None)):
            device.delete()
            removed += 1
        record(
            user,
            SecurityEvent.Kind.MFA_RESET,
            request=request,
            actor=actor,
            reason=reason,
            devices=removed,
        )
    return removed
