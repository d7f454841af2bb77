"""The backup and restore drill: `make backup`, then a restore into a fresh database that
ends with `verify_audit` clean and every document's SHA-256 matching.

Everything runs as an operator runs it, in child processes: `make backup` against this
test's database with documents in an S3 bucket (moto's server), `createdb` and
`pg_restore`, then `manage.py verify_audit` and `manage.py verify_documents` against the
restored database."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from cases import workflow
from cases.models import Document
from tests.cases.test_tasks import subprocess_env
from tests.conftest import ROOT, run_python, submit

pytestmark = pytest.mark.django_db(transaction=True)


def pg_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": str(db["HOST"] or "127.0.0.1"),
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": str(db["USER"] or ""),
        "PGPASSWORD": str(db["PASSWORD"] or ""),
    }


def run(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def fresh_database():
    """The name of a new, empty database, dropped after the test."""
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    made = run("createdb", name, env=pg_env())
    assert made.returncode == 0, made.stderr
    yield name
    run("dropdb", "--force", "--if-exists", name, env=pg_env())


def restored_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def test_a_backup_restores_into_a_fresh_database_with_a_clean_audit_and_every_document(
    alice, dora, s3, tmp_path, fresh_database
):
    cases = [submit(alice, family_name=name) for name in ("Korolev", "Petrova")]
    workflow.start_examination(cases[0], actor=alice, expected_status="submitted", reason="Go")
    workflow.add_note(cases[1], actor=alice, text="Interpreter booked.")
    for number, case in enumerate(cases):
        for page in range(2):
            workflow.add_document(
                case,
                actor=alice,
                file=SimpleUploadedFile("scan.txt", f"Case {number}, page {page}.\n".encode()),
                original_name=f"scan-{page}.txt",
            )
    env = subprocess_env(**s3.env)
    backups = tmp_path / "backup"

    made = run(shutil.which("make") or "make", "-s", "backup", f"BACKUP_DIR={backups}", env=env)

    assert made.returncode == 0, made.stdout + made.stderr
    (folder,) = backups.iterdir()
    dt.datetime.strptime(folder.name, "%Y%m%dT%H%M%SZ")  # noqa: DTZ007 - a name, in UTC
    written = sorted(p.name for p in folder.iterdir())
    assert written == ["README.txt", "database.dump", "documents.tsv"]
    with (folder / "documents.tsv").open(encoding="utf-8") as handle:
        listed = list(csv.DictReader(handle, delimiter="\t"))
    assert sorted((int(r["document"]), r["sha256"], int(r["size"])) for r in listed) == sorted(
        Document.objects.values_list("pk", "sha256", "size")
    )

    restored = run(
        "pg_restore",
        "--no-owner",
        f"--dbname={fresh_database}",
        str(folder / "database.dump"),
        env=pg_env(),
    )
    assert restored.returncode == 0, restored.stderr

    there = {**env, "DATABASE_URL": restored_url(fresh_database)}
    audit = run_python("manage.py", "verify_audit", env=there)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    documents = run_python(
        "manage.py", "verify_documents", "--listing", str(folder / "documents.tsv"), env=there
    )
    assert documents.returncode == 0, documents.stdout + documents.stderr
    assert "All 4 documents" in documents.stdout

    # The check is not a formality: a file gone from the store is named.
    gone = Document.objects.order_by("pk").first()
    s3.client().delete_object(Bucket=s3.bucket, Key=gone.file.name)
    documents = run_python(
        "manage.py", "verify_documents", "--listing", str(folder / "documents.tsv"), env=there
    )
    assert documents.returncode != 0
    assert f"document {gone.pk}: its file is missing from the store" in documents.stderr
