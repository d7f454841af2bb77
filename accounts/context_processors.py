"""Template context of the accounts app."""

from __future__ import annotations


def second_factor(request) -> dict[str, bool]:
    """`mfa_pending`: signed in with a password, second factor not yet given (the header then
    offers nothing but signing out: every other page would send the user back here)."""
    from . import mfa

    user = getattr(request, "user", None)
    pending = bool(
        user is not None
        and user.is_authenticated
        and mfa.required()
        and hasattr(user, "is_verified")
        and not user.is_verified()
    )
    return {"mfa_pending": pending}
