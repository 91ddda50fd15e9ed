"""The latest insights the training runs write for each user, and how the API reads them.

Layout (written by the ML layer, one item per user, overwritten on every run):

    PK = USER#{sub}   SK = INSIGHTS#latest
    model_version: S            e.g. "2026-11-20T03:00:00Z-7f3a"
    generated_at:  S            ISO timestamp
    forecasts:     L of M       {currency: S, month: S (YYYY-MM), predicted, lower, upper}
    anomalies:     L of M       {receipt_id: S, currency: S, amount, explanation: S, score: N}

Amounts may be N or decimal strings S. ``erase_user`` removes the item with the rest of
the partition, so erasure needs nothing extra here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import ValidationError

from lambda_src.api.observability import logger
from lambda_src.api.schemas import InsightSet, InsightsResponse
from lambda_src.common import keys

INSIGHTS_SK = "INSIGHTS#latest"
NO_MODEL_REASON = (
    "No insights yet: forecasts and anomaly alerts appear after the next training run "
    "has seen a few months of your receipts."
)
UNREADABLE_REASON = "Insights are being regenerated; check back after the next training run."

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


def insights_key(sub: str) -> dict[str, dict[str, str]]:
    return {keys.PK: {"S": keys.user_pk(sub)}, keys.SK: {"S": INSIGHTS_SK}}


def read_insights(dynamodb: Any, table_name: str, sub: str) -> InsightsResponse:
    item = dynamodb.get_item(TableName=table_name, Key=insights_key(sub)).get("Item")
    if not item:
        return InsightsResponse(insights=InsightSet(), reason=NO_MODEL_REASON, model_version=None)
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    try:
        insight_set = InsightSet.model_validate(
            {"forecasts": plain.get("forecasts", []), "anomalies": plain.get("anomalies", [])}
        )
    except ValidationError:
        # A writer bug must not break the page: say so and show nothing.
        logger.exception("insights item does not match the contract", extra={"sub": sub})
        return InsightsResponse(insights=InsightSet(), reason=UNREADABLE_REASON, model_version=None)
    version = plain.get("model_version")
    return InsightsResponse(
        insights=insight_set, reason=None, model_version=str(version) if version else None
    )


def insights_item(
    sub: str, *, model_version: str, generated_at: str, insights: InsightSet
) -> dict[str, dict[str, Any]]:
    """One user's insights as the typed DynamoDB item the API reads."""
    body = insights.model_dump(mode="json")
    item = {
        keys.PK: keys.user_pk(sub),
        keys.SK: INSIGHTS_SK,
        "item_type": "insights",
        "model_version": model_version,
        "generated_at": generated_at,
        **body,
    }
    # Scores are floats in the model; DynamoDB wants Decimals, so go through strings.
    item["anomalies"] = [{**a, "score": _dec(a["score"])} for a in body["anomalies"]]
    return {k: _serializer.serialize(v) for k, v in item.items()}


def write_insights(
    dynamodb: Any, table_name: str, sub: str, *, model_version: str, generated_at: str, insights: InsightSet
) -> None:
    """What a training run calls to publish a user's insights (replacing the previous)."""
    item = insights_item(sub, model_version=model_version, generated_at=generated_at, insights=insights)
    dynamodb.put_item(TableName=table_name, Item=item)


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))
