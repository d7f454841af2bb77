"""Finding the forms a user is offered, by reading the pages as a browser would.

The fuzz tests do not list Haven's forms by hand: they walk the pages a user can reach (links
inside one area of the site, from a few starting pages) and read every `<form>` with its
fields, so that a field or form added later is attacked too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from django.test import Client
from django.urls import Resolver404, resolve


@dataclasses.dataclass
class Field:
    name: str
    kind: str  # input type, "select", "select-multiple" or "textarea"
    value: str | None  # what the browser would send as it stands (None: nothing)
    options: list[str] = dataclasses.field(default_factory=list)
    required: bool = False


@dataclasses.dataclass
class Form:
    page: str
    action: str
    method: str
    multipart: bool
    fields: list[Field]
    # The fields to attack, when another form already covers the rest (an admin's add form
    # next to its change form); None: all of them.
    only: list[str] | None = None

    @property
    def names(self) -> list[str]:
        """Field names a request can carry: what a user types or chooses, and hidden fields
        (an attacker edits those as easily); not buttons, nor the CSRF token."""
        seen: list[str] = []
        for field in self.fields:
            if field.kind in ("submit", "button", "reset", "image"):
                continue
            if field.name == "csrfmiddlewaretoken":
                continue
            if field.name not in seen and (self.only is None or field.name in self.only):
                seen.append(field.name)
        return seen

    def defaults(self) -> dict[str, list[str]]:
        """What submitting the form unchanged sends (checked boxes, selected options...)."""
        data: dict[str, list[str]] = {}
        for field in self.fields:
            if field.kind in ("submit", "button", "reset", "image", "file"):
                continue
            if field.value is not None:
                data.setdefault(field.name, []).append(field.value)
        return data

    @property
    def key(self) -> tuple:
        return (self.method, self.action, tuple(sorted({f.name for f in self.fields})))


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: Field | None = None
        self._option: dict | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": (a.get("method") or "get").lower(),
                "multipart": a.get("enctype", "") == "multipart/form-data",
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is None or "name" not in a and tag in ("input", "select", "textarea"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            value: str | None = a.get("value", "")
            if kind in ("checkbox", "radio"):
                value = (a.get("value") or "on") if "checked" in a else None
            field = Field(a["name"], kind, value, [a.get("value") or "on"], "required" in a)
            self._form["fields"].append(field)
        elif tag == "select":
            kind = "select-multiple" if "multiple" in a else "select"
            self._select = Field(a["name"], kind, None, required="required" in a)
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = a
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea", "", required="required" in a)
            self._form["fields"].append(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if self._select.value is None and self._select.kind == "select":
                self._select.value = self._select.options[0] if self._select.options else None
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value = (self._textarea.value or "") + data.removeprefix("\n")


def read_page(url: str, html: str) -> tuple[list[str], list[Form]]:
    """The page's links (absolute paths) and forms."""
    parser = _PageParser()
    parser.feed(html)
    links = [urldefrag(urljoin(url, href))[0] for href in parser.links]
    forms = [
        Form(
            page=url,
            action=urljoin(url, f["action"] or url),
            method=f["method"],
            multipart=f["multipart"],
            fields=f["fields"],
        )
        for f in parser.forms
    ]
    return links, forms


def view_key(path: str) -> tuple:
    """A page's view and its non-id arguments: the change pages of two notes are one kind of
    page, the forms of two transitions are not."""
    match = resolve(path)
    return (
        match.view_name,
        tuple(sorted((k, v) for k, v in match.kwargs.items() if not str(v).isdigit())),
    )


def crawl(
    client: Client,
    seeds: Iterable[str],
    *,
    inside: str,
    skip: tuple[str, ...] = (),
    limit: int = 200,
) -> tuple[list[str], list[Form]]:
    """Pages reachable from `seeds` by links under `inside` (no query strings; one page of each
    kind), and the forms on them, each form once."""
    queue = list(seeds)
    seen: set[str] = set(queue)
    kinds: set[tuple] = set()
    pages: list[str] = []
    forms: dict[tuple, Form] = {}
    while queue and len(pages) < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        pages.append(url)
        links, found = read_page(url, response.content.decode())
        for form in found:
            forms.setdefault(form.key, form)
        for link in links:
            parts = urlsplit(link)
            if parts.netloc or parts.query or not parts.path.startswith(inside):
                continue
            if any(s in parts.path for s in skip) or parts.path in seen:
                continue
            seen.add(parts.path)
            try:
                kind = view_key(parts.path)
            except Resolver404:
                continue
            if kind not in kinds:
                kinds.add(kind)
                queue.append(parts.path)
    return pages, list(forms.values())
