"""A DynamoDB client whose Query responses skip botocore's walk over every attribute.

botocore parses a response by walking its JSON against the operation's output shape, and
for a Query that means one recursive call per attribute value of every item: ~40 ms of
CPU for the ~2,000 vendor aggregate items of a two-year summary, more than everything
the API does with them. For DynamoDB's ``json`` protocol that walk changes nothing in a
Query result unless an item holds binary (``B``/``BS``, which it base64-decodes): every
other value (strings, numbers as strings, booleans, maps, lists, ``Count``,
``LastEvaluatedKey``, ``ConsumedCapacity``) comes out as ``json.loads`` gives it. So a
Query body without binary values is handed over as parsed JSON, and anything else (other
operations, binary values, errors) goes through botocore's own parser unchanged.

The body is parsed with orjson: a two-year vendor summary's pages are ~200 KB of small
objects, and orjson takes ~1 ms less than ``json`` for them (a quarter of the parse). It
reads integers beyond 64 bits as floats, which cannot matter here: attribute values are
strings (``{"N": "12.50"}``), and the only bare numbers are counts and consumed capacity.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import botocore.session
import orjson
from botocore.parsers import JSONParser, ResponseParserFactory

# A binary attribute value as DynamoDB writes it: {"B": "..."} or {"BS": [...]}. Inside a
# JSON string a quote is always escaped, so this cannot match string content; a false
# match only costs the generic parse.
_BINARY = re.compile(rb'"BS?"\s*:')
_AS_SENT = frozenset({"QueryOutput"})


class ItemsAsSentParser(JSONParser):
    """botocore's JSON parser, except that binary-free Query bodies are taken as sent."""

    # Overrides the one step of botocore's JSONParser that decodes and walks the body (a
    # botocore without it just parses as usual: the Lambda runtime brings its own boto3).
    def _handle_json_body(self, raw_body: Any, shape: Any) -> Any:
        if shape is not None and shape.name in _AS_SENT and raw_body and not _BINARY.search(raw_body):
            try:
                return orjson.loads(raw_body)
            except ValueError:  # orjson.JSONDecodeError is one
                pass  # botocore's own handling of a broken body
        return super()._handle_json_body(raw_body, shape)


class ParserFactory(ResponseParserFactory):
    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return ItemsAsSentParser(**self._defaults)
        return super().create_parser(protocol_name)


def dynamodb_client(**kwargs: Any) -> Any:
    """``boto3.client("dynamodb", **kwargs)`` with the parser above (its own botocore
    session, so no other client in the process is affected)."""
    session = botocore.session.Session()
    session.register_component("response_parser_factory", ParserFactory())
    return boto3.session.Session(botocore_session=session).client("dynamodb", **kwargs)
