"""A user's signed-in sessions: listed for their owner, ended by the owner or an administrator.

Sessions live in the database session store, which keeps each session's data encoded and so
cannot answer "the sessions of this user". `UserSession` keeps that index: one row per
signed-in session (key, user, browser, address, last use), written at sign-in, its last use
renewed together with the session's expiry, removed at sign-out. Ending a session deletes it
from the session store, which signs that browser out at its next request.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .addresses import client_ip
from .models import SecurityEvent, User, UserSession


def _store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def record_sign_in(request, user: User) -> None:
    """Index the session a sign-in just made (connected to `user_logged_in`)."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    meta = getattr(request, "META", {}) or {}
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "user_agent": str(meta.get("HTTP_USER_AGENT", ""))[:300],
            "ip": (client_ip(request) or None) if "SERVER_NAME" in meta else None,
            "last_seen": timezone.now(),
        },
    )


def record_use(request) -> None:
    """The session was used: renew its last use and address (at most once per
    SESSION_REFRESH_SECONDS, by haven.middleware.SessionIdleMiddleware)."""
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).update(
            last_seen=timezone.now(), ip=client_ip(request) or None
        )


def record_sign_out(request, user=None) -> None:
    """Forget the index row of a session that signs out (connected to `user_logged_out`)."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def active_sessions(user: User) -> list[UserSession]:
    """`user`'s sessions that are still signed in, most recently used first. Rows of sessions
    that expired or were removed from the store are dropped on the way."""
    rows = list(UserSession.objects.filter(user=user))
    alive = set(
        Session.objects.filter(
            session_key__in=[r.session_key for r in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    stale = [r.pk for r in rows if r.session_key not in alive]
    if stale:
        UserSession.objects.filter(pk__in=stale).delete()
    return [r for r in rows if r.session_key in alive]


def end_session(user: User, session_id, *, request) -> bool:
    """End one of `user`'s own sessions (by its row id); False if it is not theirs or gone."""
    try:
        session_id = int(session_id)
    except (TypeError, ValueError):
        return False
    if not 0 < session_id < 2**63:
        return False
    with transaction.atomic():
        row = UserSession.objects.filter(user=user, pk=session_id).first()
        if row is None:
            return False
        _store(row.session_key).delete(row.session_key)
        row.delete()
        _record(user, SecurityEvent.Kind.SESSION_ENDED, request=request, actor=user, ended=1)
    return True


def end_other_sessions(user: User, *, request) -> int:
    """End all of `user`'s sessions but the one making the request."""
    current = request.session.session_key
    with transaction.atomic():
        rows = list(UserSession.objects.filter(user=user).exclude(session_key=current))
        for row in rows:
            _store(row.session_key).delete(row.session_key)
        UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
        if rows:
            _record(
                user, SecurityEvent.Kind.SESSION_ENDED, request=request, actor=user, ended=len(rows)
            )
    return len(rows)


def end_all_sessions(user: User, *, actor: User, reason: str, request=None) -> int:
    """An administrator ends every session of `user` (a leaver, a lost phone), with a reason.

    Sessions made before this index existed are found in the store too (their data names the
    user), so none survives."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for ending the sessions."))
    with transaction.atomic():
        keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
        keys |= _stored_keys_of(user)
        for key in keys:
            _store(key).delete(key)
        UserSession.objects.filter(user=user).delete()
        _record(
            user,
            SecurityEvent.Kind.SESSIONS_ENDED,
            request=request,
            actor=actor,
            reason=reason,
            ended=len(keys),
        )
    return len(keys)


def _stored_keys_of(user: User) -> set[str]:
    """Keys of unexpired sessions in the database store whose data names `user`."""
    from django.contrib.auth import SESSION_KEY

    found = set()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
            found.add(session.session_key)
    return found


def _record(user: User, kind: str, *, request, actor: User, reason: str = "", **data) -> None:
    from .mfa import record

    record(user, kind, request=request, actor=actor, reason=reason, **data)


# -- what the page shows ----------------------------------------------------------------------

BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str) -> str:
    """A short name of the browser and system ("Firefox on Windows") from a User-Agent."""
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")
