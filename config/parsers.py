"""The API's JSON parser: DRF's, plus a 400 for JSON nested too deeply to decode.

Python's ``json`` raises ``RecursionError`` (not ``ValueError``) on a few thousand levels of
nesting (``[[[[...``), which DRF's parser does not catch: a 30-byte-per-level request body
would be a 500. Here it is a parse error like any other malformed body.
https://www.django-rest-framework.org/api-guide/parsers/#jsonparser
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
