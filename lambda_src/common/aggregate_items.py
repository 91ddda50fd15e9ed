"""Reading the monthly aggregate items as cells: the summary reads ~2,000 of them per
request. A module of its own so that ingest, which writes aggregates but never reads
them, does not import msgspec."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from lambda_src.common import keys
from lambda_src.common.dynamodb import N, S, query_items

# month, currency, key, label, total (DynamoDB's decimal string), count
AggregateCell = tuple[str, str, str, str, str, int]


class AggregateItem(msgspec.Struct, frozen=True, gc=False):
    """The attributes of an aggregate item a cell needs, in DynamoDB's wire form."""

    sk: S = msgspec.field(name=keys.SK)
    count: N | None = None
    total: N | None = None
    label: S | None = None


def read_cells(
    client: Any, table_name: str, user_id: str, kind: str, from_month: str, to_month: str
) -> list[AggregateCell]:
    """See ``ReceiptRepository.aggregate_cells``."""
    cells: list[AggregateCell] = []
    append = cells.append
    for item in query_items(
        client,
        AggregateItem,
        TableName=table_name,
        KeyConditionExpression=f"{keys.PK} = :pk AND {keys.SK} BETWEEN :lo AND :hi",
        ExpressionAttributeValues={
            ":pk": {"S": keys.user_pk(user_id)},
            ":lo": {"S": keys.aggregate_sk(kind, from_month, "")},
            ":hi": {"S": keys.aggregate_sk(kind, to_month, "~")},
        },
        # Only what a cell needs (smaller pages; reads cost the same).
        ProjectionExpression=f"{keys.SK}, #count, #total, #label",
        ExpressionAttributeNames={"#count": "count", "#total": "total", "#label": "label"},
    ):
        count = int(item.count.N) if item.count else 0
        total = item.total.N if item.total else "0"
        if not count and not Decimal(total):
            continue
        parts = item.sk.S.split("#", 4)  # AGG, kind, month, currency[, key]
        key = parts[4] if len(parts) == 5 else ""
        label = (item.label.S if item.label else "") or key or parts[2]
        append((parts[2], parts[3], key, label, total, count))
    return cells
