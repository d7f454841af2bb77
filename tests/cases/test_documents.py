"""Documents have a type and a readable title: the upload form asks for both, the case page
and the timeline show the title (the file's name only when there is none), and the sample
case's article shows as "News article (source of this sample case)"."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from cases import workflow
from cases.models import Application, Document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(name="scan-0041.txt", content=b"Passport of the applicant.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_the_upload_form_records_the_type_and_the_title(client, alice, case):
    client.force_login(alice)
    response = client.post(
        reverse("cases:add_document", args=[case.pk]),
        {"file": upload(), "kind": "identity", "title": "Passport", "description": ""},
    )
    assert response.status_code == 302
    document = Document.objects.get(application=case)
    assert (document.kind, document.title, document.original_name) == (
        "identity",
        "Passport",
        "scan-0041.txt",
    )
    page = client.get(reverse("cases:detail", args=[case.pk]))
    (row,) = page.context["documents"]
    assert (row["name"], row["kind"], row["file_name"]) == (
        "Passport",
        "Identity document",
        "scan-0041.txt",
    )
    timeline = [r for r in page.context["timeline"] if r["kind"] == "document"]
    assert timeline[0]["link_text"] == "Passport"
    assert "Identity document" in timeline[0]["details"]


def test_a_document_without_a_title_is_known_by_its_file_name(alice, case):
    document = workflow.add_document(case, actor=alice, file=upload(), original_name="a.txt")
    assert document.kind == Document.Kind.OTHER
    assert document.display_name == "a.txt"


def test_it_refuses_an_unknown_type(alice, case):
    with pytest.raises(ValidationError) as refused:
        workflow.add_document(case, actor=alice, file=upload(), original_name="a.txt", kind="x")
    assert "kind" in refused.value.message_dict
    assert not Document.objects.exists()


def test_the_sample_article_shows_as_the_source_of_the_sample_case(client, alice):
    call_command("import_seed", stdout=io.StringIO())
    case = Application.objects.get()
    document = case.documents.get()
    assert document.title == "News article (source of this sample case)"
    assert document.kind == Document.Kind.OTHER
    from tests.conftest import make_user

    reader = make_user("reader", "caseworker", case.unit)
    client.force_login(reader)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert ">News article (source of this sample case)</a>" in html
    assert ">000_2ae32ac5df5f4f9d.txt</a>" not in html


def test_the_sample_case_keeps_provenance_out_of_its_fields():
    call_command("import_seed", stdout=io.StringIO())
    case = Application.objects.get()
    placement = case.placements.get()
    assert placement.order_reference == ""
    values = [
        str(getattr(obj, f.attname))
        for obj in (case, case.applicant, placement)
        for f in obj._meta.concrete_fields
    ]
    assert not [v for v in values if "not stated" in v or "article" in v.lower()]
    # The import's record says where the case came from.
    registered = case.events.get(action="submit")
    assert registered.data["seed"] == "korolev-2023"
