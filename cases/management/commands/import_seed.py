"""Import the sample case files of `seeds/` (idempotent: a second run changes nothing)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.seeding import SeedError, import_seeds


class Command(BaseCommand):
    help = (
        "Load every case file (YAML or JSON) in seeds/ through the real workflow. Facts are "
        "checked against the article; a case already imported is left as it is."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--folder",
            default=str(Path(settings.BASE_DIR) / "seeds"),
            help="Folder of case files (default: the project's seeds/).",
        )

    def handle(self, *args, folder: str, **options) -> None:
        try:
            results = import_seeds(Path(folder))
        except SeedError as exc:
            raise CommandError(f"Nothing was imported. {exc}") from None
        if not results:
            self.stdout.write(f"No case files in {folder}.")
        for result in results:
            verb = "Imported" if result.created else "Already imported"
            self.stdout.write(
                f"{verb}: {result.reference} ({result.status}) from {result.path.name}"
            )
