"""Move the documents' files between the local folder (MEDIA_ROOT) and the S3 bucket.

    python manage.py move_documents --to s3 [--dry-run] [--delete-source]
    python manage.py move_documents --to local [--dry-run] [--delete-source]

Both stores come from the settings (MEDIA_ROOT; S3_BUCKET and the other S3_ variables), so
the command can run before the web servers are switched over. For each document, in id
order:

1. a file already in the target whose SHA-256 is the document's is left alone (so the
   command is resumable: interrupted, it picks up where it stopped);
2. otherwise the source file is read and its SHA-256 checked against the document's (a
   damaged source file is reported and not copied);
3. it is written to the target under the same name (a half-written file from an
   interrupted run is replaced), and the target's SHA-256 is checked;
4. with `--delete-source`, the source file is then deleted. Without it the source is kept,
   so that web servers still configured for it keep serving documents until they are
   switched; rerun with `--delete-source` afterwards to free the space.

A progress bar shows documents and bytes done. The exit status is 1 when any document
could not be moved (each is named by its id with the reason); rerunning retries exactly those.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from cases.models import Document
from haven import storage

BATCH = 500
BAR = 30


class Command(BaseCommand):
    help = (
        "Move the documents' files to the S3 bucket (--to s3) or to MEDIA_ROOT (--to local), "
        "checking each file's SHA-256 on both sides. Resumable; --dry-run changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--to", choices=["s3", "local"], required=True)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say how many documents (and bytes) would be moved; write nothing.",
        )
        parser.add_argument(
            "--delete-source",
            action="store_true",
            help="Delete each source file once its copy is verified.",
        )

    def handle(self, *args, to: str, dry_run: bool, delete_source: bool, verbosity: int, **opts):
        try:
            s3 = storage.s3_storage()
        except storage.DocumentStoreError as exc:
            raise CommandError(str(exc)) from None
        local = storage.local_storage()
        source, target = (local, s3) if to == "s3" else (s3, local)
        documents = Document.objects.exclude(file="").order_by("pk")
        total = documents.count()
        total_bytes = sum(documents.values_list("size", flat=True))
        self.verbosity = verbosity
        self.say(
            f"{total} documents ({_size(total_bytes)}) from {storage.describe(source)} "
            f"to {storage.describe(target)}" + (" (dry run: nothing is written)" if dry_run else "")
        )
        done = moved = already = 0
        done_bytes = 0
        failures: list[str] = []
        progress = Progress(self.stdout, total, total_bytes, enabled=verbosity >= 1)
        last = 0
        while True:
            batch = list(documents.filter(pk__gt=last)[:BATCH])
            if not batch:
                break
            for document in batch:
                last = document.pk
                try:
                    outcome = self.move_one(document, source, target, dry_run, delete_source)
                except storage.STORE_ERRORS as exc:
                    outcome = f"the store failed ({type(exc).__name__})"
                if outcome == "moved":
                    moved += 1
                elif outcome == "there":
                    already += 1
                else:
                    failures.append(f"document {document.pk}: {outcome}")
                done += 1
                done_bytes += document.size
                progress.show(done, done_bytes)
        progress.finish()
        verb = "would be moved" if dry_run else "moved"
        self.say(
            f"{moved} {verb}, {already} already in the target with the right SHA-256, "
            f"{len(failures)} not moved."
        )
        for failure in failures:
            self.stderr.write(failure)
        if failures:
            raise CommandError(
                f"{len(failures)} documents were not moved (listed above); fix them and run "
                "the command again: it skips what is already moved."
            )

    def move_one(self, document, source, target, dry_run: bool, delete_source: bool) -> str:
        """'moved', 'there' (already in the target), or why it could not be moved."""
        name = document.file.name
        try:
            if storage.stored_sha256(target, name) == document.sha256:
                if delete_source and not dry_run:
                    source.delete(name)  # both stores ignore a file already gone
                return "there"
        except FileNotFoundError:
            pass
        try:
            held = storage.stored_sha256(source, name)
        except FileNotFoundError:
            return "its file is in neither store"
        if held != document.sha256:
            return "its source file's SHA-256 differs from the one recorded at upload"
        if dry_run:
            return "moved"
        target.delete(name)  # what an interrupted run half-wrote
        handle = source.open(name, "rb")
        try:
            written = target.save(name, handle)
        finally:
            handle.close()
        if written != name:
            target.delete(written)
            return f"the target stored it under another name ({written})"
        if storage.stored_sha256(target, name) != document.sha256:
            target.delete(name)
            return "its copy's SHA-256 differs; the copy was deleted"
        if delete_source:
            source.delete(name)
        return "moved"

    def say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


class Progress:
    """A one-line bar on a terminal (redrawn at most a few times a second), one line per
    tenth of the work in a log."""

    def __init__(self, out, total: int, total_bytes: int, *, enabled: bool) -> None:
        self.out, self.total, self.total_bytes = out, total, total_bytes
        self.enabled = enabled and total > 0
        self.tty = out.isatty()
        self.drawn = 0.0
        self.tenth = -1

    def show(self, done: int, done_bytes: int) -> None:
        if not self.enabled:
            return
        share = done / self.total
        filled = int(BAR * share)
        line = (
            f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{self.total} documents, "
            f"{_size(done_bytes)} of {_size(self.total_bytes)}"
        )
        if self.tty:
            now = time.monotonic()
            if now - self.drawn >= 0.2 or done == self.total:
                self.out.write("\r" + line, ending="")
                self.out.flush()
                self.drawn = now
        elif int(share * 10) > self.tenth:
            self.tenth = int(share * 10)
            self.out.write(line)

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.out.write("")
