"""The API's DynamoDB client parses Query answers as botocore would, only cheaper, and
``query_items`` gives the same structs whichever client answers."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import msgspec
import pytest
from botocore.parsers import create_parser

from lambda_src.api.deps import build_deps
from lambda_src.common.dynamodb import ItemsAsSentParser, N, ParserFactory, S, dynamodb_client, query_items
from tests.unit.api.support import unit_settings

MODEL = boto3.client("dynamodb", region_name="eu-west-1").meta.service_model
GENERIC = create_parser("json")
FAST = ParserFactory().create_parser("json")

ITEM: dict[str, Any] = {
    "PK": {"S": "USER#u1"},
    "SK": {"S": 'AGG#V#2026-01#EUR#caf\u00e9 "B": x'},  # text that looks like a binary key
    "count": {"N": "3"},
    "total": {"N": "12.50"},
    "flag": {"BOOL": True},
    "none": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2.5"]},
    "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}]}, "BOOLEAN": {"BOOL": False}}},
}


def _response(body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"body": json.dumps(body).encode(), "headers": {"x-amzn-requestid": "r1"}, "status_code": status}


def _both(operation: str, body: dict[str, Any], status: int = 200) -> tuple[Any, Any]:
    shape = MODEL.operation_model(operation).output_shape
    return GENERIC.parse(_response(body, status), shape), FAST.parse(_response(body, status), shape)


@pytest.mark.parametrize(
    "body",
    [
        {"Items": [ITEM, ITEM], "Count": 2, "ScannedCount": 2},
        {
            "Items": [ITEM],
            "Count": 1,
            "ScannedCount": 5,
            "LastEvaluatedKey": {"PK": {"S": "USER#u1"}, "SK": {"S": "AGG#V#2026-01#EUR#x"}},
            "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5},
        },
        {"Items": [], "Count": 0, "ScannedCount": 0},
    ],
)
def test_query_answers_equal_botocores(body: dict[str, Any]) -> None:
    generic, fast = _both("Query", body)
    assert fast == generic


def test_binary_values_still_decoded_by_botocore() -> None:
    blob = base64.b64encode(b"\x00\x01raw").decode()
    body = {"Items": [{**ITEM, "img": {"B": blob}, "imgs": {"BS": [blob]}}], "Count": 1, "ScannedCount": 1}
    generic, fast = _both("Query", body)
    assert fast == generic
    assert fast["Items"][0]["img"] == {"B": b"\x00\x01raw"}


def test_other_operations_and_errors_take_botocores_path() -> None:
    generic, fast = _both("GetItem", {"Item": ITEM})
    assert fast == generic
    error = {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "gone"}
    generic, fast = _both("Query", error, status=400)
    assert fast == generic
    assert fast["Error"]["Code"] == "ResourceNotFoundException"


def test_the_api_builds_its_dynamodb_client_with_this_parser() -> None:
    settings = unit_settings()
    for client in (build_deps(settings).dynamodb, dynamodb_client(region_name="eu-west-1")):
        factory = client._endpoint._response_parser_factory
        assert isinstance(factory, ParserFactory)
        assert isinstance(factory.create_parser("json"), ItemsAsSentParser)
    # and no other client is affected
    other = boto3.client("dynamodb", region_name="eu-west-1")
    assert not isinstance(other._endpoint._response_parser_factory, ParserFactory)


class Cell(msgspec.Struct, frozen=True):
    sk: S = msgspec.field(name="SK")
    count: N | None = None
    total: N | None = None


QUERY = MODEL.operation_model("Query").output_shape
LAST_KEY = {"PK": {"S": "USER#u1"}, "SK": {"S": "AGG#V#2026-01#EUR#x"}}
PAGES: list[dict[str, Any]] = [
    {"Items": [ITEM, {"SK": {"S": "AGG#M#2026-02#EUR"}}], "Count": 2, "LastEvaluatedKey": LAST_KEY},
    {"Items": [{**ITEM, "total": {"N": "-0.5"}}], "Count": 1, "ConsumedCapacity": {"CapacityUnits": 0.5}},
]
CELLS = [
    Cell(S(ITEM["SK"]["S"]), N("3"), N("12.50")),
    Cell(S("AGG#M#2026-02#EUR")),
    Cell(S(ITEM["SK"]["S"]), N("3"), N("-0.5")),
]


class PagedClient:
    """A client whose query() answers the canned bodies in turn through a botocore parser."""

    def __init__(self, parser: Any, pages: list[dict[str, Any]]) -> None:
        self.parser, self.pages = parser, pages
        self.requests: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        answer: dict[str, Any] = self.parser.parse(_response(self.pages[len(self.answers)]), QUERY)
        self.answers.append(answer)
        return answer


@pytest.mark.parametrize("parser", [FAST, GENERIC], ids=["api-client", "botocore"])
def test_query_items_reads_every_page_into_the_same_structs(parser: Any) -> None:
    client = PagedClient(parser, PAGES)
    assert list(query_items(client, Cell, TableName="t", Limit=2)) == CELLS
    assert client.requests == [
        {"TableName": "t", "Limit": 2},
        {"TableName": "t", "Limit": 2, "ExclusiveStartKey": LAST_KEY},
    ]


def test_the_api_client_decodes_items_straight_into_the_struct() -> None:
    fast, generic = PagedClient(FAST, PAGES), PagedClient(GENERIC, PAGES)
    list(query_items(fast, Cell, TableName="t"))
    list(query_items(generic, Cell, TableName="t"))
    assert all(type(item) is Cell for answer in fast.answers for item in answer["Items"])
    assert all(type(item) is dict for answer in generic.answers for item in answer["Items"])
    # the rest of the answer as botocore gives it, less its walk
    assert fast.answers[0]["LastEvaluatedKey"] == generic.answers[0]["LastEvaluatedKey"] == LAST_KEY
    assert fast.answers[1]["ConsumedCapacity"] == generic.answers[1]["ConsumedCapacity"]
    assert "ScannedCount" not in fast.answers[0]  # what was not sent is not invented
    # and only inside query_items(): a plain query afterwards still gets dicts
    assert FAST.parse(_response(PAGES[0]), QUERY)["Items"][0] == ITEM


def test_items_with_binary_values_are_converted_from_botocores_parse() -> None:
    blob = base64.b64encode(b"\x00raw").decode()
    page = {"Items": [{**ITEM, "img": {"B": blob}}], "Count": 1}
    client = PagedClient(FAST, [page])
    assert list(query_items(client, Cell, TableName="t")) == CELLS[:1]
    assert client.answers[0]["Items"][0]["img"] == {"B": b"\x00raw"}


@pytest.mark.parametrize("parser", [FAST, GENERIC], ids=["api-client", "botocore"])
def test_an_item_that_does_not_fit_is_named(parser: Any) -> None:
    page = {"Items": [ITEM, {**ITEM, "count": {"S": "three"}}], "Count": 2}
    with pytest.raises(msgspec.ValidationError, match=r"\$\[1\]\.count"):
        list(query_items(PagedClient(parser, [page]), Cell, TableName="t"))
