"""Make a personal API token for a user and print it (only the token, once)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from api.models import ApiToken


class Command(BaseCommand):
    help = (
        "Make a personal API token for USERNAME and print it. Only its digest is stored: "
        "copy it now. Service accounts are ordinary users with a role and a unit."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Days until it expires (default {settings.API_TOKEN_DAYS}).",
        )

    def handle(self, *args, username: str, name: str, days: int | None, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is not active.")
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        try:
            _token, raw = ApiToken.issue(user, name=name.strip(), days=days)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(raw)
