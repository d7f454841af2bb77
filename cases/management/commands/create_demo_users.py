"""Create one demo user per role in the sample case's unit, and give the sample case to the
demo caseworker. For trying Haven only: refused when DEBUG is off (unless --force)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from accounts.models import Unit, User
from cases import workflow
from cases.models import Application
from cases.seeding import find_imported

DEMO_UNIT = "Migration Department, Asylum Division"
DEMO_USERS = [
    # username, role, first name, last name, staff
    ("caseworker", roles.CASEWORKER, "Rūta", "Jonaitienė", False),
    ("decider", roles.DECISION_MAKER, "Tomas", "Petrauskas", False),
    ("administrator", roles.ADMINISTRATOR, "Asta", "Kazlauskienė", True),
]
SAMPLE_KEY = "korolev-2023"


class Command(BaseCommand):
    help = "Create demo users (one per role) with known passwords, for a local trial."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow with DEBUG off.")

    def handle(self, *args, force: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("Demo users have known passwords: refused with DEBUG off.")
        unit, _created = Unit.objects.get_or_create(name=DEMO_UNIT)
        lines = []
        with transaction.atomic():
            users = {}
            for username, role, first, last, staff in DEMO_USERS:
                password = f"haven-demo-{username}"
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "unit": unit if role != roles.ADMINISTRATOR else None,
                        "is_staff": staff,
                        "email": f"{username}@haven.invalid",
                    },
                )
                if created:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                    user.groups.add(Group.objects.get(name=role))
                users[role] = user
                lines.append(f"  {roles.LABELS[role]:<16} {username:<14} {password}")
            sample = find_imported(SAMPLE_KEY)
            caseworker = users[roles.CASEWORKER]
            if sample is not None and sample.assigned_to_id != caseworker.pk:
                workflow.assign(
                    sample,
                    actor=users[roles.DECISION_MAKER],
                    assignee=caseworker,
                    reason="Demo: the sample case is given to the demo caseworker.",
                )
        self.stdout.write("Demo users (sign in at http://127.0.0.1:8000/):")
        self.stdout.write("\n".join(lines))
        if not Application.objects.exists():
            self.stdout.write("No cases yet: run `python manage.py import_seed`.")
