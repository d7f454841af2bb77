"""Check that the document store holds every document with the SHA-256 recorded at upload.

    python manage.py verify_documents [--listing var/backup/<time>/documents.tsv]

For each document with a file (in id order, in batches), the configured store (MEDIA_ROOT,
or the S3 bucket with S3_BUCKET set) is asked for the file's SHA-256: the bucket reports the
checksum it computed on upload, a local file is read and hashed. With `--listing` (written by
`manage.py backup`), each document must also appear there with the same name, size and
SHA-256: the check that ends a restore drill. Names each document that fails by id and exits
non-zero when any does. `-v2` shows progress.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.models import Document
from haven import storage

BATCH = 500


def read_listing(path: Path) -> dict[int, dict[str, str]]:
    """The rows of a backup's documents.tsv by document id."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {int(row["document"]): row for row in csv.DictReader(handle, delimiter="\t")}


class Command(BaseCommand):
    help = (
        "Check every document's file in the document store against the SHA-256 recorded at "
        "upload (and against a backup's listing); exit non-zero if any differs or is missing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--listing", type=Path, help="A backup's documents.tsv to compare with as well."
        )

    def handle(self, *args, listing: Path | None, verbosity: int, **options) -> None:
        listed = read_listing(listing) if listing else None
        store = Document._meta.get_field("file").storage
        documents = Document.objects.exclude(file="").order_by("pk")
        total = documents.count()
        problems: list[str] = []
        checked = last = 0
        while batch := list(documents.filter(pk__gt=last)[:BATCH]):
            for document in batch:
                last = document.pk
                problem = self.check_one(document, store, listed)
                if problem:
                    problems.append(f"document {document.pk}: {problem}")
                checked += 1
            if verbosity >= 2:
                self.stdout.write(f"{checked}/{total} documents checked")
        if listed is not None:
            gone = sorted(set(listed) - set(documents.values_list("pk", flat=True)))
            problems += [f"document {pk}: in the listing, not in the database" for pk in gone]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} of {total} documents do not match.")
        if verbosity >= 1:
            where = storage.describe(store)
            also = " and the listing" if listed is not None else ""
            self.stdout.write(f"All {total} documents in {where} match their SHA-256{also}.")

    def check_one(self, document: Document, store, listed) -> str:
        try:
            held = storage.stored_sha256(store, document.file.name)
        except FileNotFoundError:
            return "its file is missing from the store"
        except storage.STORE_ERRORS as exc:
            return f"the store failed ({type(exc).__name__})"
        if held != document.sha256:
            return "its file's SHA-256 differs from the one recorded at upload"
        if listed is not None:
            row = listed.get(document.pk)
            if row is None:
                return "not in the listing"
            if (row["name"], row["size"], row["sha256"]) != (
                document.file.name,
                str(document.size),
                held,
            ):
                return "differs from the listing"
        return ""
