"""Documents in S3-compatible storage (haven.storage), against moto's real S3 server.

The server is a subprocess on a free port (`s3_server` in tests/conftest.py), each test has a
bucket of its own (`s3`), and the local MEDIA_ROOT of the test must stay empty. A store that
is down is a closed port.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import workflow
from cases.models import CaseEvent, Document
from haven import storage
from tests.cases.test_tasks import subprocess_env
from tests.cases.test_uploads import TINY_PDF
from tests.conftest import run_python, stored_files

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there
LETTER = "A letter from the applicant, in Lithuanian: „Prašau prieglobsčio“.\n".encode()


def upload_through_the_page(client, case, name="letter.txt", content=LETTER):
    return client.post(
        reverse("cases:add_document", args=[case.pk]),
        {"file": SimpleUploadedFile(name, content, content_type="text/plain"), "description": "x"},
    )


def download_url(document: Document) -> str:
    return reverse("cases:document", args=[document.application_id, document.pk])


@pytest.mark.django_db
def test_it_stores_a_document_as_a_private_object_whose_sha256_the_store_confirms(
    client, alice, case, s3, settings
):
    client.force_login(alice)

    response = upload_through_the_page(client, case)

    assert response.status_code == 302
    document = Document.objects.get(application=case)
    assert s3.keys() == [document.file.name]
    assert s3.read(document.file.name) == LETTER
    head = s3.client().head_object(Bucket=s3.bucket, Key=document.file.name, ChecksumMode="ENABLED")
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == document.sha256
    assert document.sha256 == hashlib.sha256(LETTER).hexdigest()
    grants = s3.client().get_object_acl(Bucket=s3.bucket, Key=document.file.name)["Grants"]
    assert [g["Grantee"]["Type"] for g in grants] == ["CanonicalUser"]  # the owner, nobody else
    assert stored_files(settings.MEDIA_ROOT) == []


@pytest.mark.django_db
def test_it_streams_a_download_through_the_access_checked_view_never_a_url(
    client, alice, oscar, case, s3
):
    document = workflow.add_document(
        case, actor=alice, file=SimpleUploadedFile("letter.txt", LETTER), original_name="x.txt"
    )
    client.force_login(alice)

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(LETTER))
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == LETTER
    assert CaseEvent.objects.filter(application=case, kind="access", action="document").exists()
    with pytest.raises(NotImplementedError):
        document.file.url  # noqa: B018 - no public or presigned URL, ever
    client.force_login(oscar)
    assert client.get(download_url(document)).status_code == 404


DOWNLOAD = """
import sys, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
from accounts.models import User
from tests.conftest import give_second_factor
user = User.objects.get(username=sys.argv[1])
client = Client()
client.force_login(user)
session = client.session
give_second_factor(session, user)  # a staff session past the second factor, as in production
session.save()
response = client.get(sys.argv[2])
sys.stdout.buffer.write(b"%d\\n" % response.status_code + b"".join(response.streaming_content))
"""


@pytest.mark.django_db(transaction=True)
def test_a_document_uploaded_by_one_process_downloads_in_another_with_an_empty_media_root(
    client, alice, case, s3, tmp_path
):
    client.force_login(alice)
    assert upload_through_the_page(client, case).status_code == 302
    document = Document.objects.get(application=case)
    empty = tmp_path / "another-machine-media"
    empty.mkdir()

    result = run_python(
        "-c",
        DOWNLOAD,
        "alice",
        download_url(document),
        env=subprocess_env(**s3.env, MEDIA_ROOT=str(empty)),
        text=False,
    )

    assert result.returncode == 0, result.stderr.decode(errors="replace")
    status, _newline, body = result.stdout.partition(b"\n")
    assert status == b"200"
    assert body == LETTER
    assert list(empty.iterdir()) == []
    assert CaseEvent.objects.filter(
        application=case, kind="access", action="document", actor=alice
    ).exists()


@pytest.mark.django_db
def test_a_store_that_is_down_is_a_clear_error_and_writes_no_half_document(
    client, alice, case, s3, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "haven.storage.DocumentStorage",
            "OPTIONS": {**s3.options, "endpoint_url": CLOSED},
        },
    }
    timeline = CaseEvent.objects.filter(application=case).exclude(kind="access")
    events_before = timeline.count()
    client.force_login(alice)

    response = upload_through_the_page(client, case)

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "The document store is not answering, so the document was not saved. Nothing was "
        "added to the case: try again in a few minutes."
    ]
    assert not Document.objects.exists()
    assert timeline.count() == events_before
    assert s3.keys() == []
    assert stored_files(settings.MEDIA_ROOT) == []


@pytest.mark.django_db
def test_a_download_while_the_store_is_down_answers_503_and_logs_no_read(
    client, alice, case, s3, settings
):
    document = workflow.add_document(
        case, actor=alice, file=SimpleUploadedFile("letter.txt", LETTER), original_name="x.txt"
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "haven.storage.DocumentStorage",
            "OPTIONS": {**s3.options, "endpoint_url": CLOSED},
        },
    }
    client.force_login(alice)

    response = client.get(download_url(document))

    assert response.status_code == 503
    assert response.content.decode() == (
        "The document store is not answering: try again in a few minutes."
    )
    assert not CaseEvent.objects.filter(application=case, action="document").exists()


@pytest.mark.django_db
def test_a_bucket_that_is_missing_is_the_same_clear_error(alice, case, s3, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "haven.storage.DocumentStorage",
            "OPTIONS": {**s3.options, "bucket_name": "haven-no-such-bucket"},
        },
    }

    with pytest.raises(ValidationError, match="document store is not answering"):
        workflow.add_document(
            case, actor=alice, file=SimpleUploadedFile("a.pdf", TINY_PDF), original_name="a.pdf"
        )

    assert not Document.objects.exists()


class CorruptingStorage(storage.DocumentStorage):
    """A store that keeps other bytes than it was sent (a broken proxy, a bad disk)."""

    def _save(self, name, content):
        content.seek(0)
        return super()._save(name, SimpleUploadedFile(name, content.read() + b"!"))


@pytest.mark.django_db
def test_it_refuses_and_deletes_an_object_whose_stored_sha256_differs(alice, case, s3, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.CorruptingStorage", "OPTIONS": s3.options},
    }

    with pytest.raises(ValidationError, match="document store"):
        workflow.add_document(
            case, actor=alice, file=SimpleUploadedFile("a.pdf", TINY_PDF), original_name="a.pdf"
        )

    assert not Document.objects.exists()
    assert s3.keys() == []


@pytest.mark.django_db
def test_the_health_check_writes_to_the_bucket_and_names_it_when_it_is_down(client, s3, settings):
    checks = client.get(reverse("health")).json()["checks"]
    assert checks["storage"] == {"ok": True}
    assert s3.keys() == []  # its probe is deleted again

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "haven.storage.DocumentStorage",
            "OPTIONS": {**s3.options, "endpoint_url": CLOSED},
        },
    }
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert "storage" in response.json()["failing"]
    assert response.json()["checks"]["storage"] == {"ok": False, "error": "EndpointConnectionError"}


SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s;"
    "print(json.dumps(s.STORAGES['default']['BACKEND']))"
)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"S3_BUCKET": "B"}, "S3_BUCKET"),
        ({"S3_REGION": ""}, "S3_REGION"),
        ({"S3_ENDPOINT_URL": "ftp://store"}, "S3_ENDPOINT_URL"),
        ({"S3_SECRET_ACCESS_KEY": ""}, "S3_SECRET_ACCESS_KEY"),
    ],
)
def test_settings_refuse_an_incomplete_s3_configuration_naming_the_variable(extra, named):
    env = subprocess_env(
        S3_BUCKET="haven-documents",
        S3_REGION="eu-north-1",
        S3_ENDPOINT_URL="https://s3.example.gov",
        S3_ACCESS_KEY_ID="id",
        S3_SECRET_ACCESS_KEY="secret",
    )
    env.update(extra)

    result = run_python("-c", SETTINGS, env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_settings_use_the_bucket_when_s3_bucket_is_set_and_media_root_otherwise():
    base = subprocess_env()
    base.pop("S3_BUCKET", None)
    local = run_python("-c", SETTINGS, env=base)
    remote = run_python(
        "-c", SETTINGS, env={**base, "S3_BUCKET": "haven-documents", "S3_REGION": "eu-north-1"}
    )

    assert json.loads(local.stdout.splitlines()[-1]) == (
        "django.core.files.storage.FileSystemStorage"
    )
    assert json.loads(remote.stdout.splitlines()[-1]) == "haven.storage.DocumentStorage"
