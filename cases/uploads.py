"""Checks a document before it is stored.

A case file is read by officers in a browser, so an upload is a way in for whoever can hand
an applicant's "document" to a caseworker. Each file is therefore judged by its bytes, never
by the name or the content type the browser claims:

1. it must not be empty and must not exceed `settings.DOCUMENT_MAX_BYTES`;
2. its first bytes must be those of an allowed type: PDF, PNG, JPEG, GIF, WebP, or plain
   text (valid UTF-8 without NUL bytes or other binary control characters, and not markup);
3. an extension in its name must belong to that type, so an executable or a web page named
   `.pdf` is refused with a message that says what the file really is;
4. the stored content type is the sniffed one.

HTML, SVG and XML are never accepted, not even as text: a browser that ignored the
`nosniff` header could run their scripts in Haven's origin. The checked file is stored under a
random name outside the static root (`Document.file`'s `upload_to`) and served only through
the access-checked download view.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CHUNK = 1024 * 1024
HEAD = 8192


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str
    extensions: frozenset[str]


PDF = FileKind("application/pdf", gettext_lazy("a PDF document"), frozenset({"pdf"}))
PNG = FileKind("image/png", gettext_lazy("a PNG image"), frozenset({"png"}))
JPEG = FileKind("image/jpeg", gettext_lazy("a JPEG image"), frozenset({"jpg", "jpeg", "jpe"}))
GIF = FileKind("image/gif", gettext_lazy("a GIF image"), frozenset({"gif"}))
WEBP = FileKind("image/webp", gettext_lazy("a WebP image"), frozenset({"webp"}))
TEXT = FileKind(
    "text/plain; charset=utf-8",
    gettext_lazy("plain text"),
    frozenset({"txt", "text", "csv", "log", "md"}),
)
ALLOWED_KINDS = (PDF, PNG, JPEG, GIF, WEBP, TEXT)
ALLOWED_EXTENSIONS = frozenset().union(*(kind.extensions for kind in ALLOWED_KINDS))

# Formats recognised only to say what a refused file is.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", gettext_lazy("an executable program (ELF)")),
    (b"MZ", gettext_lazy("a Windows executable program")),
    (b"\xca\xfe\xba\xbe", gettext_lazy("an executable program (Mach-O or Java class)")),
    (b"\xcf\xfa\xed\xfe", gettext_lazy("an executable program (Mach-O)")),
    (b"PK\x03\x04", gettext_lazy("a ZIP archive (or an Office document)")),
    (b"PK\x05\x06", gettext_lazy("a ZIP archive (or an Office document)")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", gettext_lazy("an old Office document")),
    (b"Rar!", gettext_lazy("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", gettext_lazy("a 7-Zip archive")),
    (b"\x1f\x8b", gettext_lazy("a gzip archive")),
    (b"#!", gettext_lazy("a script")),
)

# Markup that a browser would render (and run scripts in) if it ever sniffed the file: a
# text file that starts with a tag, or has one of these tags near its start, is refused.
_MARKUP_TAGS = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|frameset|\?xml|style|"
    rb"meta|base|link|form|img|math)\b",
    re.IGNORECASE,
)
_LEADING_SPACE = b"\xef\xbb\xbf \t\r\n\f"
# ASCII control characters that never occur in text documents (tab, newline, carriage
# return and form feed are allowed).
_BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_like_markup(head: bytes) -> bool:
    start = head.lstrip(_LEADING_SPACE)[:1024]
    return start.startswith(b"<") or bool(_MARKUP_TAGS.search(start))


@dataclass(frozen=True)
class CheckedUpload:
    """What the bytes of an accepted file turned out to be."""

    content_type: str
    size: int
    sha256: str
    kind: FileKind


def clean_original_name(name: str | None) -> str:
    """The file's own name, without any path a browser sent along and without control
    characters; kept in the database for display, never used on disk."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "document"


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _sniff_binary(head: bytes) -> FileKind | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    return None


def _describe_refused(head: bytes) -> str:
    for signature, label in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            return str(label)
    if _looks_like_markup(head):
        return _("a web page or other markup (HTML, SVG or XML)")
    return _("binary data of an unknown kind")


def _refuse(name: str, what: str) -> ValidationError:
    return ValidationError(
        {
            "file": _("“%(name)s” is not accepted: its content is %(what)s. Allowed: %(allowed)s.")
            % {"name": name, "what": what, "allowed": _allowed_text()}
        }
    )


def _allowed_text() -> str:
    return _("PDF, PNG, JPEG, GIF, WebP or plain text (UTF-8)")


def check_upload(file: IO[bytes], *, original_name: str) -> CheckedUpload:
    """Read `file` once and return its sniffed type, size and SHA-256, or raise a
    `ValidationError` keyed `file` that says why it is refused.

    The content type a browser claimed is deliberately not an argument.
    """
    name = clean_original_name(original_name)
    limit = settings.DOCUMENT_MAX_BYTES
    declared = getattr(file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise _too_large(name, limit)

    digest = hashlib.sha256()
    size = 0
    head = b""
    # Text is only known to be text once every byte was read: decode as we go.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    text_so_far = True
    file.seek(0)
    while chunk := file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            file.seek(0)
            raise _too_large(name, limit)
        digest.update(chunk)
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        if text_so_far:
            text_so_far = _still_text(decoder, chunk)
    file.seek(0)
    if size == 0:
        raise ValidationError({"file": _("“%(name)s” is empty.") % {"name": name}})
    if text_so_far:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            text_so_far = False

    kind = _sniff_binary(head)
    if kind is None:
        if text_so_far and not _looks_like_markup(head):
            kind = TEXT
        else:
            raise _refuse(name, _describe_refused(head))

    ext = _extension(name)
    if ext and ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            {
                "file": _(
                    "“%(name)s” is not accepted: .%(ext)s files are not allowed. "
                    "Allowed: %(allowed)s."
                )
                % {"name": name, "ext": ext, "allowed": _allowed_text()}
            }
        )
    if ext and ext not in kind.extensions:
        raise ValidationError(
            {
                "file": _(
                    "“%(name)s” is named as a .%(ext)s file but its content is %(what)s. "
                    "Rename it with the right extension, or upload the real document."
                )
                % {"name": name, "ext": ext, "what": kind.label}
            }
        )
    return CheckedUpload(
        content_type=kind.content_type, size=size, sha256=digest.hexdigest(), kind=kind
    )


def _still_text(decoder: codecs.IncrementalDecoder, chunk: bytes) -> bool:
    if _BINARY_CONTROLS.search(chunk):
        return False
    try:
        decoder.decode(chunk)
    except UnicodeDecodeError:
        return False
    return True


def _too_large(name: str, limit: int) -> ValidationError:
    return ValidationError(
        {
            "file": _("“%(name)s” is larger than the limit of %(limit)s.")
            % {"name": name, "limit": filesizeformat(limit)}
        }
    )
