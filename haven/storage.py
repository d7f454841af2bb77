"""Where case documents are kept: the local MEDIA_ROOT, or an S3-compatible bucket.

With `S3_BUCKET` set, Django's default storage (and so `Document.file`) is `DocumentStorage`:
django-storages' S3 backend with Haven's rules on top.

1. Objects are private: no ACL is ever sent (a bucket's objects are private to its owner by
   default) and the storage refuses to give out a URL, signed or not. A document reaches a
   browser only through the access-checked download view, which streams it from the bucket.
2. Every object is written in one PUT with `ChecksumAlgorithm=SHA256`, so the store computes
   and keeps the object's SHA-256. After the upload `store_document` asks the store for it
   and compares it with the SHA-256 Haven computed from the bytes it received (the one the
   `Document` row keeps): a mismatch deletes the object and refuses the document.
3. A store that does not answer is a clear `DocumentStoreError`, never a half document: the
   caller (`workflow.add_document`) saves no row, and nothing is left in the store.

The same helpers (`stored_sha256`, `open_stream`) work on the local storage, so the download
view, `move_documents`, `make backup` and the health check treat both stores alike.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024


class DocumentStoreError(Exception):
    """The document store did not answer, refused, or holds other bytes than were sent.

    The message names what went wrong (an error class, a checksum mismatch), never a
    document's name or contents."""


# What "the store failed" looks like, as opposed to a bug in Haven: the local disk's errors
# and boto3's (a refused connection, a timeout, an error answer such as NoSuchBucket).
STORE_ERRORS = (OSError, BotoCoreError, ClientError)


class DocumentStorage(S3Storage):
    """Private objects in an S3-compatible bucket, each with a SHA-256 kept by the store.

    Options (from `haven.settings`, `STORAGES["default"]["OPTIONS"]`) are django-storages'
    own (`bucket_name`, `endpoint_url`, `region_name`, `access_key`, `secret_key`) plus
    `max_bytes`, the largest document: objects up to that size go in a single PUT, so the
    store's SHA-256 is the whole object's (a multipart upload would get a checksum of the
    parts' checksums instead).
    """

    def __init__(self, *, max_bytes: int = 20 * 1024 * 1024, **options: Any) -> None:
        options.setdefault("default_acl", None)  # private: the bucket owner's only
        options.setdefault("querystring_auth", True)
        options.setdefault("file_overwrite", True)  # names are random: no HEAD before a PUT
        options.setdefault("object_parameters", {"ChecksumAlgorithm": "SHA256"})
        options.setdefault(
            "client_config",
            Config(
                # A store that is down must fail a request in seconds, not hold an upload
                # (and the case's lock) for a minute of retries.
                connect_timeout=3,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
                # S3-compatible stores behind an endpoint URL (MinIO, Ceph, ...) are reached by
                # path; Amazon's own S3 by bucket host name.
                s3={"addressing_style": "path" if options.get("endpoint_url") else "auto"},
            ),
        )
        options.setdefault(
            "transfer_config",
            TransferConfig(multipart_threshold=max(8 * 1024 * 1024, max_bytes + 1)),
        )
        super().__init__(**options)

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError(
            "Documents have no URL: they are served by the access-checked download view only."
        )

    def _key(self, name: str) -> str:
        return self._normalize_name(clean_name(name))

    def _client(self):
        return self.connection.meta.client

    def stored_sha256(self, name: str) -> str:
        """The object's SHA-256 (hex) as the store computed it on upload; for an object
        written without one (by another tool), the SHA-256 of its bytes as read back."""
        try:
            head = self._client().head_object(
                Bucket=self.bucket_name, Key=self._key(name), ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(name) from None
            raise
        value = head.get("ChecksumSHA256") or ""
        if value and "-" not in value:  # "<base64>-<parts>" is a multipart composite
            return base64.b64decode(value).hex()
        return _sha256_of_stream(self.open_stream(name)[0])

    def open_stream(self, name: str) -> tuple[IO[bytes], int]:
        """The object's body as a stream read straight from the store (nothing is spooled
        to this machine's disk), and its length."""
        try:
            answer = self._client().get_object(Bucket=self.bucket_name, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(name) from None
            raise
        return answer["Body"], int(answer["ContentLength"])


def _sha256_of_stream(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    try:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    finally:
        handle.close()
    return digest.hexdigest()


def stored_sha256(storage: Storage, name: str) -> str:
    """The SHA-256 (hex) of what `storage` holds under `name`: asked of the store for S3
    (which computed it on upload), read and hashed for the local disk. FileNotFoundError
    when nothing is there."""
    if isinstance(storage, DocumentStorage):
        return storage.stored_sha256(name)
    return _sha256_of_stream(storage.open(name, "rb"))


def open_stream(storage: Storage, name: str) -> tuple[IO[bytes], int]:
    """A readable stream of the stored file and its length in bytes."""
    if isinstance(storage, DocumentStorage):
        return storage.open_stream(name)
    handle = storage.open(name, "rb")
    return handle, handle.size


def describe(storage: Storage) -> str:
    """Where `storage` keeps files, for messages (no credentials)."""
    if isinstance(storage, DocumentStorage):
        where = storage.endpoint_url or "Amazon S3"
        return f"S3 bucket {storage.bucket_name} at {where}"
    if isinstance(storage, FileSystemStorage):
        return f"the folder {storage.location}"
    return type(storage).__name__


def s3_storage() -> DocumentStorage:
    """The S3 document store the settings describe, whether or not it is the default (for
    `move_documents`); DocumentStoreError when S3_BUCKET is not set."""
    if not settings.S3_STORAGE_OPTIONS:
        raise DocumentStoreError(
            "S3_BUCKET is not set: set S3_BUCKET, S3_REGION and the other S3_ variables."
        )
    return DocumentStorage(**settings.S3_STORAGE_OPTIONS)


def local_storage() -> FileSystemStorage:
    """The local document folder (MEDIA_ROOT), whether or not it is the default."""
    return FileSystemStorage(location=settings.MEDIA_ROOT)


def delete_quietly(storage: Storage, name: str) -> bool:
    """Delete `name`, logging (not raising) a store failure: used when a document is being
    refused anyway. True when the file is gone."""
    try:
        storage.delete(name)
    except STORE_ERRORS as exc:
        log.error(
            "document store: could not delete a refused upload (%s); it is an orphan",
            type(exc).__name__,
            extra={"object": name},
        )
        return False
    return True


def store_document(field_file, original_name: str, content, *, sha256: str) -> None:
    """Save `content` into `field_file` (a new `Document.file`, under a random name) and check
    that the store holds exactly those bytes.

    Raises DocumentStoreError, having left nothing behind, when the store does not answer,
    refuses, or reports another SHA-256 than `sha256`.
    """
    storage = field_file.storage
    try:
        field_file.save(original_name, content, save=False)
    except STORE_ERRORS as exc:
        log.error("document store: upload failed (%s)", type(exc).__name__)
        raise DocumentStoreError(
            f"the document store did not take the file ({type(exc).__name__})"
        ) from exc
    name = field_file.name
    try:
        held = stored_sha256(storage, name)
    except STORE_ERRORS as exc:
        delete_quietly(storage, name)
        field_file.name = None
        log.error("document store: checksum check failed (%s)", type(exc).__name__)
        raise DocumentStoreError(
            f"the document store did not confirm the file ({type(exc).__name__})"
        ) from exc
    if held != sha256:
        delete_quietly(storage, name)
        field_file.name = None
        log.error("document store: stored SHA-256 differs from the uploaded file's")
        raise DocumentStoreError("the document store holds other bytes than were sent")
