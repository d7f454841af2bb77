"""Uploads are judged by their bytes: allowed types are stored with the sniffed content type
under a random name; anything else is refused with a reason and leaves nothing behind."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import uploads, workflow
from cases.models import CaseEvent, Document
from tests.conftest import stored_files

TINY_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n160\n%%EOF\n"
)


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PNG = _png_1x1()
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(case, actor, name: str, content: bytes, claimed: str = "application/pdf"):
    return workflow.add_document(
        case,
        actor=actor,
        file=SimpleUploadedFile(name, content, content_type=claimed),
        original_name=name,
        content_type=claimed,
        description="Scan",
    )


def refusal(case, actor, media: Path, name: str, content: bytes) -> str:
    """Upload, expect a refusal keyed `file`, and check that nothing was stored."""
    events_before = CaseEvent.objects.filter(application=case).count()
    with pytest.raises(ValidationError) as info:
        upload(case, actor, name, content)
    assert Document.objects.filter(application=case).count() == 0
    assert stored_files(media) == []
    assert CaseEvent.objects.filter(application=case).count() == events_before
    return " ".join(info.value.message_dict["file"])


def test_it_stores_a_pdf_with_the_sniffed_type_under_a_random_name(case, alice, media):
    document = upload(case, alice, "passport scan.pdf", TINY_PDF, claimed="text/html")

    assert document.content_type == "application/pdf"
    assert document.size == len(TINY_PDF)
    assert document.original_name == "passport scan.pdf"
    files = stored_files(media)
    assert len(files) == 1
    assert files[0].read_bytes() == TINY_PDF
    assert "passport" not in str(files[0]) and files[0].suffix == ""
    assert files[0].is_relative_to(media / "documents")


def test_it_stores_a_png_image(case, alice, media):
    document = upload(case, alice, "photo.PNG", TINY_PNG, claimed="application/octet-stream")

    assert document.content_type == "image/png"
    assert len(stored_files(media)) == 1


def test_it_stores_utf8_text_in_any_script(case, alice, media):
    text = "Заявление Ивана Королёва\r\nStatement\twith tabs\n".encode()
    document = upload(case, alice, "statement.txt", text, claimed="application/pdf")

    assert document.content_type == "text/plain; charset=utf-8"


def test_it_stores_a_file_without_an_extension_by_its_content(case, alice, media):
    assert upload(case, alice, "scan", TINY_PDF).content_type == "application/pdf"


def test_it_keeps_only_the_file_name_of_a_browser_path(case, alice, media):
    document = upload(case, alice, "C:\\fakepath\\decision.pdf", TINY_PDF)

    assert document.original_name == "decision.pdf"


def test_it_refuses_a_file_over_the_size_limit(case, alice, media, settings):
    settings.DOCUMENT_MAX_BYTES = 100

    message = refusal(case, alice, media, "big.pdf", TINY_PDF + b"%" * 200)

    assert "larger than the limit of 100" in message


def test_it_refuses_an_empty_file(case, alice, media):
    assert "is empty" in refusal(case, alice, media, "empty.pdf", b"")


def test_it_refuses_a_web_page_named_pdf(case, alice, media):
    message = refusal(case, alice, media, "decision.pdf", HTML)

    assert "web page" in message
    assert "decision.pdf" in message


def test_it_refuses_a_web_page_named_txt(case, alice, media):
    assert "web page" in refusal(case, alice, media, "notes.txt", b"  \n" + HTML)


def test_it_refuses_svg_even_though_it_is_text(case, alice, media):
    assert "SVG" in refusal(case, alice, media, "logo.txt", SVG)


def test_it_refuses_an_executable_named_pdf(case, alice, media):
    assert "executable program (ELF)" in refusal(case, alice, media, "invoice.pdf", ELF)


def test_it_refuses_a_windows_executable_named_pdf(case, alice, media):
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56
    assert "Windows executable" in refusal(case, alice, media, "invoice.pdf", exe)


def test_it_refuses_a_zip_archive_named_pdf(case, alice, media):
    assert "ZIP archive" in refusal(case, alice, media, "bundle.pdf", ZIP)


def test_it_refuses_a_png_named_pdf(case, alice, media):
    message = refusal(case, alice, media, "scan.pdf", TINY_PNG)

    assert "named as a .pdf file but its content is a PNG image" in message


def test_it_refuses_a_real_pdf_with_a_dangerous_extension(case, alice, media):
    assert ".html files are not allowed" in refusal(case, alice, media, "page.html", TINY_PDF)


def test_it_refuses_text_with_nul_bytes(case, alice, media):
    assert "binary data" in refusal(case, alice, media, "a.txt", b"hello\x00world")


def test_it_refuses_text_that_is_not_utf8(case, alice, media):
    latin1 = "Pabradė".encode("cp1257")
    assert "binary data" in refusal(case, alice, media, "a.txt", latin1)


def test_it_reads_multibyte_characters_split_across_chunks():
    # "ё" is two bytes; put its first byte at the end of the first chunk.
    content = b"a" * (uploads.CHUNK - 1) + "ё".encode() + b" end\n"
    checked = uploads.check_upload(
        SimpleUploadedFile("long.txt", content), original_name="long.txt"
    )

    assert checked.content_type.startswith("text/plain")
    assert checked.size == len(content)


def test_it_ignores_the_content_type_the_browser_claims():
    checked = uploads.check_upload(
        SimpleUploadedFile("x.pdf", TINY_PDF, content_type="text/html"), original_name="x.pdf"
    )

    assert checked.content_type == "application/pdf"
