"""A DynamoDB client whose Query responses skip botocore's walk over every attribute, and
Query items read straight into typed structs.

botocore parses a response by walking its JSON against the operation's output shape, and
for a Query that means one recursive call per attribute value of every item: ~40 ms of
CPU for the ~2,000 vendor aggregate items of a two-year summary, more than everything
the API does with them. For DynamoDB's ``json`` protocol that walk changes nothing in a
Query result unless an item holds binary (``B``/``BS``, which it base64-decodes): every
other value (strings, numbers as strings, booleans, maps, lists, ``Count``,
``LastEvaluatedKey``, ``ConsumedCapacity``) comes out as plain JSON decoding gives it. So
a Query body without binary values is handed over as decoded JSON (msgspec), and anything
else (other operations, binary values, errors) goes through botocore's own parser.

``query_items`` goes one step further for a caller that knows its items' shape: the
items are decoded into msgspec structs of their wire form (``{"N": "12.5"}`` is an ``N``)
instead of a dict per item and per attribute. For the vendor summary's page (1,785
items) that is 0.7 MB instead of 2.0 MB and half the decoding time; on a shared host,
where memory traffic is what the neighbours slow down, the request's p99 fell by more
than its median (bench/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from typing import Any, Generic, TypeVar

import boto3
import botocore.session
import msgspec
from botocore.parsers import JSONParser, ResponseParserFactory

T = TypeVar("T", bound=msgspec.Struct)

# A binary attribute value as DynamoDB writes it: {"B": "..."} or {"BS": [...]}. Inside a
# JSON string a quote is always escaped, so this cannot match string content; a false
# match only costs the generic parse.
_BINARY = re.compile(rb'"BS?"\s*:')
_AS_SENT = frozenset({"QueryOutput"})
_JSON = msgspec.json.Decoder()
# The item type a query_items() call is waiting for, read by the parser below: botocore
# hands a parser only the response and the output shape, never the request.
_ITEM_TYPE: ContextVar[type[msgspec.Struct] | None] = ContextVar("dynamodb_item_type", default=None)


class S(msgspec.Struct, frozen=True, gc=False):
    """A string attribute value, ``{"S": "..."}``."""

    S: str


class N(msgspec.Struct, frozen=True, gc=False):
    """A number attribute value, ``{"N": "12.5"}``: the decimal string as DynamoDB sent it."""

    N: str


class _Page(msgspec.Struct, Generic[T]):
    """A Query answer with typed items; the other members as plain JSON gives them."""

    Items: list[T] = []
    Count: int | msgspec.UnsetType = msgspec.UNSET
    ScannedCount: int | msgspec.UnsetType = msgspec.UNSET
    LastEvaluatedKey: dict[str, dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET
    ConsumedCapacity: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


@cache
def _page_decoder(item_type: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(_Page[item_type])  # type: ignore[valid-type]


def _page_fields(page: _Page[Any]) -> dict[str, Any]:
    members = ((name, getattr(page, name)) for name in page.__struct_fields__)
    return {name: value for name, value in members if value is not msgspec.UNSET}


class ItemsAsSentParser(JSONParser):
    """botocore's JSON parser, except that binary-free Query bodies are decoded as sent."""

    # Overrides the one step of botocore's JSONParser that decodes and walks the body (a
    # botocore without it just parses as usual: the Lambda runtime brings its own boto3).
    def _handle_json_body(self, raw_body: Any, shape: Any) -> Any:
        if shape is not None and shape.name in _AS_SENT and raw_body and not _BINARY.search(raw_body):
            item_type = _ITEM_TYPE.get()
            try:
                if item_type is None:
                    return _JSON.decode(raw_body)
                return _page_fields(_page_decoder(item_type).decode(raw_body))
            except msgspec.DecodeError:  # ValidationError is one
                # A broken body gets botocore's own handling; items that do not fit the
                # type come back as dicts, and query_items() names what does not fit.
                pass
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


def query_items(client: Any, item_type: type[T], **query: Any) -> Iterator[T]:
    """Every item of a Query (all pages) as ``item_type``, a msgspec struct of the
    attributes' wire form (fields of type ``S``, ``N``, ..., optional where an item may
    lack them; other attributes are ignored, so project what the struct reads).

    With ``dynamodb_client()`` the items are decoded straight into the struct; any other
    client's dicts (botocore's own parser, moto, a Stubber) are converted, so the result
    never depends on the client. An item that does not fit raises ``msgspec.ValidationError``
    naming the item and attribute."""
    items_type = list[item_type]  # type: ignore[valid-type]
    while True:
        token = _ITEM_TYPE.set(item_type)
        try:
            page = client.query(**query)
        finally:
            _ITEM_TYPE.reset(token)
        items = page.get("Items", [])
        if items and not isinstance(items[0], item_type):
            items = msgspec.convert(items, items_type)
        yield from items
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        query = {**query, "ExclusiveStartKey": last}
