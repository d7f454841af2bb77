"""`manage.py move_documents`: the documents' files from MEDIA_ROOT to the S3 bucket and back,
each checksum verified, resumable after an interruption, `--dry-run` writing nothing.

The bucket is on moto's S3 server (tests/conftest.py `s3_bucket`); an interrupted earlier run
is what it leaves behind: some objects already copied, one half written."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from cases import workflow
from cases.models import Document
from haven import storage
from tests.conftest import stored_files, use_local, use_s3

pytestmark = pytest.mark.django_db


def letters(case, alice, count: int = 3) -> list[Document]:
    return [
        workflow.add_document(
            case,
            actor=alice,
            file=SimpleUploadedFile(f"letter-{n}.txt", f"Letter number {n}.\n".encode()),
            original_name=f"letter-{n}.txt",
        )
        for n in range(count)
    ]


def move(*args: str) -> str:
    out = io.StringIO()
    call_command("move_documents", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def store_sha256(bucket, key: str) -> str:
    """The SHA-256 the S3 store itself reports for the object."""
    return storage.DocumentStorage(**bucket.options).stored_sha256(key)


def download(client, document: Document) -> bytes:
    response = client.get(reverse("cases:document", args=[document.application_id, document.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_it_moves_every_document_to_s3_verified_and_resumes_an_interrupted_run(
    client, alice, case, media, s3_bucket, settings
):
    first, second, third = letters(case, alice)
    bucket = s3_bucket.client()
    # An earlier run copied the first document and was killed in the middle of the second.
    bucket.put_object(
        Bucket=s3_bucket.bucket,
        Key=first.file.name,
        Body=(media / first.file.name).read_bytes(),
        ChecksumAlgorithm="SHA256",
    )
    bucket.put_object(Bucket=s3_bucket.bucket, Key=second.file.name, Body=b"Letter num")

    output = move("--to", "s3")

    assert "2 moved, 1 already in the target with the right SHA-256, 0 not moved." in output
    assert "3/3 documents" in output  # the progress bar's last line
    assert s3_bucket.keys() == sorted(d.file.name for d in (first, second, third))
    for document in (first, second, third):
        assert store_sha256(s3_bucket, document.file.name) == document.sha256
    assert len(stored_files(media)) == 3  # kept: web servers may still read them

    # Switched over, the pages serve the documents from the bucket alone.
    use_s3(settings, s3_bucket)
    settings.MEDIA_ROOT = media.parent / "emptied"
    client.force_login(alice)
    assert download(client, second) == b"Letter number 1.\n"

    # Run again: nothing to do.
    assert "0 moved, 3 already" in move("--to", "s3")


def test_a_dry_run_says_what_would_move_and_writes_nothing(alice, case, media, s3_bucket):
    letters(case, alice, 2)

    output = move("--to", "s3", "--dry-run")

    assert "dry run" in output
    assert "2 would be moved, 0 already" in output
    assert s3_bucket.keys() == []


def test_it_moves_back_to_local_deleting_the_source_only_when_asked(
    client, alice, case, s3, settings, tmp_path
):
    documents = letters(case, alice)
    settings.MEDIA_ROOT = tmp_path / "media"

    output = move("--to", "local", "--delete-source")

    assert "3 moved" in output
    assert s3.keys() == []
    for document in documents:
        held = (settings.MEDIA_ROOT / document.file.name).read_bytes()
        assert hashlib.sha256(held).hexdigest() == document.sha256
    use_local(settings)
    client.force_login(alice)
    assert download(client, documents[0]) == b"Letter number 0.\n"


def test_it_reports_a_damaged_file_by_id_copies_the_others_and_fails(alice, case, media, s3_bucket):
    first, second = letters(case, alice, 2)
    (media / second.file.name).write_bytes(b"Tampered with.\n")

    with pytest.raises(CommandError, match="1 documents were not moved"):
        move("--to", "s3")

    assert s3_bucket.keys() == [first.file.name]


def test_it_refuses_without_an_s3_configuration(settings, media):
    settings.S3_STORAGE_OPTIONS = {}

    with pytest.raises(CommandError, match="S3_BUCKET is not set"):
        move("--to", "s3")
