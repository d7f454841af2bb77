"""Users and the offices (units) they work in. Roles are the Groups named in `roles`."""

from __future__ import annotations

import pgtrigger
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import roles


class Unit(models.Model):
    """An office of an authority, for example the Migration Department's Asylum Division.

    Caseworkers and decision-makers see and act on the cases of their own unit only.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    # Reminders of a deadline go to one person: the case's caseworker, or this officer when
    # nobody (active) is assigned. Without one, such deadlines reach the unit's
    # decision-makers through their daily digest.
    duty_officer = models.ForeignKey(
        "User",
        verbose_name=_("duty officer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Receives the reminders of deadlines of cases that nobody is assigned to. A "
            "member of this unit."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        officer = self.duty_officer
        if officer is not None and (officer.unit_id != self.pk or not officer.is_active):
            raise ValidationError(
                {"duty_officer": _("Choose an active member of this unit as its duty officer.")}
            )


class User(AbstractUser):
    class Language(models.TextChoices):
        # Each language is named in itself, as language switches do: a reader who does not
        # understand the current page still finds their own language.
        LITHUANIAN = "lt", "Lietuvių"
        ENGLISH = "en", "English"

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    # Kept on the account so that it follows the user across devices and sessions, and so
    # that emails and notifications are written in it. Blank: follow the browser.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=Language.choices,
        blank=True,
        default="",
        help_text=_("Leave empty to follow the browser's language."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    def has_role(self, role: str) -> bool:
        """Whether this active user belongs to the role group `role` (cached per instance)."""
        if not self.is_active:
            return False
        cache = getattr(self, "_role_cache", None)
        if cache is None:
            cache = set(self.groups.values_list("name", flat=True))
            self._role_cache = cache
        return role in cache

    @property
    def is_caseworker(self) -> bool:
        return self.has_role(roles.CASEWORKER)

    @property
    def is_decision_maker(self) -> bool:
        return self.has_role(roles.DECISION_MAKER)

    @property
    def is_administrator(self) -> bool:
        return self.has_role(roles.ADMINISTRATOR)


class SecurityEvent(models.Model):
    """One event of an account's security: a second factor enrolled, used, failed or reset,
    recovery codes renewed, sessions ended. Append-only (the admin shows it read-only).

    `user` is whose account it is; `actor` who did it (the user, or an administrator who
    reset their devices or ended their sessions); `reason` is the administrator's.
    """

    class Kind(models.TextChoices):
        MFA_ENROLLED = "mfa_enrolled", _("Second factor enrolled")
        MFA_VERIFIED = "mfa_verified", _("Second factor used")
        MFA_FAILED = "mfa_failed", _("Second factor code refused")
        RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
        RECOVERY_CODES_RENEWED = "recovery_codes_renewed", _("Recovery codes renewed")
        MFA_RESET = "mfa_reset", _("Second factor reset")
        MFA_REMOVED = "mfa_removed", _("Second factor removed")
        SESSION_ENDED = "session_ended", _("Session ended")
        SESSIONS_ENDED = "sessions_ended", _("All sessions ended")

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="security_events",
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, default="")
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [models.Index(fields=["user", "-at"], name="securityevent_user_at")]
        triggers = [
            pgtrigger.Protect(name="securityevent_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="securityevent_no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user}"


class UserSession(models.Model):
    """A signed-in session, so that its owner can see and end it (the session store cannot
    list a user's sessions): written at sign-in, its `last_seen` renewed when the session's
    expiry is (haven.middleware.SessionIdleMiddleware), removed at sign-out or when ended."""

    session_key = models.CharField(_("session key"), max_length=64, unique=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="sessions"
    )
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, default="")
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    started_at = models.DateTimeField(_("signed in at"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last used"))

    class Meta:
        ordering = ["-last_seen", "-pk"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["user", "-last_seen"], name="usersession_user_seen")]

    def __str__(self) -> str:
        return f"{self.user}: {self.ip or '?'}"
