"""JSON bodies, with every malformed one answered 400."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's parser refuses what `json` calls a ValueError; this one also refuses nesting deep
    enough to exhaust the parser's recursion (a RecursionError, else a 500) and the
    non-standard NaN and Infinity, which no field accepts."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.load(codecs.getreader(encoding)(stream), parse_constant=_refuse)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(_("The body is not valid JSON.")) from exc


def _refuse(name: str):
    raise ValueError(f"{name} is not JSON")
