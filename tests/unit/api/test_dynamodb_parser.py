"""The API's DynamoDB client parses Query answers as botocore would, only cheaper."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.parsers import create_parser

from lambda_src.api.deps import build_deps
from lambda_src.common.dynamodb import ItemsAsSentParser, ParserFactory, dynamodb_client
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
