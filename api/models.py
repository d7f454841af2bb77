"""Personal API tokens.

A token is a random secret shown once, when it is made; only its SHA-256 digest is stored, so
a copy of the database gives nobody a working token. A token has a name (what it is for), an
expiry, and can be revoked; its last use is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX = "hvn_"
# Last use is written at most this often, so that a busy client does not write on every call.
TOUCH_EVERY = dt.timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now: dt.datetime | None = None) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    token_hash = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        _("beginning"),
        max_length=12,
        editable=False,
        help_text=_("The first characters of the token, to recognise it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, *, name: str, days: int | None = None) -> tuple[ApiToken, str]:
        """Make a token for `user`; returns the row and the secret, which is never stored."""
        token = cls(user=user, name=name)
        raw = token.new_secret()
        token.expires_at = timezone.now() + dt.timedelta(days=days or settings.API_TOKEN_DAYS)
        token.full_clean(exclude=["token_hash", "prefix"])
        token.save()
        return token, raw

    def new_secret(self) -> str:
        """Give this (unsaved) row a fresh secret; returns the secret."""
        raw = PREFIX + secrets.token_urlsafe(32)
        self.token_hash = digest(raw)
        self.prefix = raw[: len(PREFIX) + 4]
        return raw

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def revoke(self) -> None:
        ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )

    def touch(self) -> None:
        """Record a use, at most once per TOUCH_EVERY (one conditional UPDATE)."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < TOUCH_EVERY:
            return
        ApiToken.objects.filter(pk=self.pk).filter(
            models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - TOUCH_EVERY)
        ).update(last_used_at=now)
        self.last_used_at = now
