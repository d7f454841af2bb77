"""Back up the database and list the document store: what `make backup` runs.

    python manage.py backup [--into var/backup]

Writes a new folder `<into>/<UTC time>/` (default `var/backup/`) with:

- `database.dump`: `pg_dump --format=custom` of the database of DATABASE_URL (the audit
  trail, the cases, the documents' rows with their SHA-256);
- `documents.tsv`: one line per document with a file: its id, its name in the store, its
  size and the SHA-256 the store reports for it now (asked of the S3 bucket, or read and
  hashed from MEDIA_ROOT), so that a restore can be checked against what was there;
- `README.txt`: how to restore (the drill of README "Backup and restore").

The document files themselves stay where they are: the bucket's own versioning or
replication (or a copy of MEDIA_ROOT) keeps them; their names and checksums are in the
listing. A document whose stored SHA-256 differs from the recorded one, or whose file is
missing, is listed as it is and named on stderr, and the command exits non-zero after
writing everything. `-v2` shows progress while listing.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cases.models import Document
from haven import storage

BATCH = 500
RESTORE = """Haven backup taken {taken} (UTC) of database {database}.

Restore drill (README "Backup and restore"):
  createdb haven_restored
  pg_restore --no-owner --dbname=haven_restored database.dump
  DATABASE_URL=postgres://.../haven_restored python manage.py verify_audit
  DATABASE_URL=postgres://.../haven_restored python manage.py verify_documents \\
      --listing documents.tsv
Documents: {documents} files ({bytes} bytes) in {store}, listed in documents.tsv.
"""


class Command(BaseCommand):
    help = (
        "Dump the PostgreSQL database (pg_dump, custom format) and list the document store "
        "(name, size, SHA-256 of every document) into a new folder under var/backup/."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--into",
            type=Path,
            default=Path(settings.BASE_DIR) / "var" / "backup",
            help="The folder that gets the new backup folder (default var/backup).",
        )

    def handle(self, *args, into: Path, verbosity: int, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("backup needs PostgreSQL (DATABASE_URL=postgres://...).")
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise CommandError(
                "pg_dump is not installed (Debian: apt-get install postgresql-client)."
            )
        taken = dt.datetime.now(dt.UTC)
        folder = into / taken.strftime("%Y%m%dT%H%M%SZ")
        folder.mkdir(parents=True, exist_ok=False)
        db = connection.settings_dict

        # 1. The database, with its connection in the environment (no password in `ps`).
        env = {
            **os.environ,
            "PGHOST": str(db.get("HOST") or "127.0.0.1"),
            "PGPORT": str(db.get("PORT") or 5432),
            "PGUSER": str(db.get("USER") or ""),
            "PGPASSWORD": str(db.get("PASSWORD") or ""),
            "PGDATABASE": str(db["NAME"]),
        }
        dump = folder / "database.dump"
        result = subprocess.run(  # noqa: S603 - pg_dump from PATH, fixed arguments
            [pg_dump, "--format=custom", "--no-owner", f"--file={dump}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        if verbosity >= 1:
            self.stdout.write(f"Database {db['NAME']}: {dump} ({dump.stat().st_size} bytes)")

        # 2. The document store's listing, after the dump: every row in the dump is listed
        # (a document uploaded in between is listed too, and harmless).
        store = Document._meta.get_field("file").storage
        documents = Document.objects.exclude(file="").order_by("pk")
        problems: list[str] = []
        count = total_bytes = last = 0
        with (folder / "documents.tsv").open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle, delimiter="\t", lineterminator="\n")
            out.writerow(["document", "name", "size", "sha256"])
            while batch := list(documents.filter(pk__gt=last)[:BATCH]):
                for document in batch:
                    last = document.pk
                    name = document.file.name
                    try:
                        held = storage.stored_sha256(store, name)
                    except FileNotFoundError:
                        held = "missing"
                    except storage.STORE_ERRORS as exc:
                        raise CommandError(
                            f"The document store failed ({type(exc).__name__}); the database "
                            f"dump is in {folder}, the listing is incomplete."
                        ) from exc
                    if held != document.sha256:
                        problems.append(f"document {document.pk}: stored SHA-256 is {held}")
                    out.writerow([document.pk, name, document.size, held])
                    count += 1
                    total_bytes += document.size
                if verbosity >= 2:
                    self.stdout.write(f"{count} documents listed")
        (folder / "README.txt").write_text(
            RESTORE.format(
                taken=taken.strftime("%Y-%m-%d %H:%M:%S"),
                database=db["NAME"],
                documents=count,
                bytes=total_bytes,
                store=storage.describe(store),
            ),
            encoding="utf-8",
        )
        if verbosity >= 1:
            self.stdout.write(
                f"Documents: {count} ({total_bytes} bytes) in {storage.describe(store)}, "
                f"listed in {folder / 'documents.tsv'}"
            )
            self.stdout.write(f"Backup written to {folder}")
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(
                f"{len(problems)} documents are missing or differ from their recorded SHA-256 "
                "(listed as they are)."
            )
