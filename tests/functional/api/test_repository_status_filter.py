"""The small repository change the API needed: ``list_by_status`` takes a predicate."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lambda_src.common.model import Receipt, Status, Vendor
from lambda_src.common.repository import ReceiptRepository


def test_list_by_status_filters_and_pages_with_a_predicate(receipts_table: tuple[Any, str]) -> None:
    client, name = receipts_table
    repo = ReceiptRepository(name, client)
    for i in range(7):
        r = repo.create_pending(Receipt(receipt_id=f"r{i}", user_id="u1"))
        vendor = "Shell" if i % 2 else "Tesco"
        repo.complete(
            r.model_copy(
                update={
                    "status": Status.NEEDS_REVIEW,
                    "vendor": Vendor(name=vendor),
                    "currency": "EUR",
                    "total": Decimal(i),
                    "processed_at": datetime.now(UTC),
                }
            )
        )
    is_shell = lambda r: r.vendor.name == "Shell"  # noqa: E731
    first = repo.list_by_status("u1", Status.NEEDS_REVIEW, limit=2, predicate=is_shell)
    assert [r.receipt_id for r in first.items] == ["r1", "r3"]
    rest = repo.list_by_status(
        "u1", Status.NEEDS_REVIEW, limit=2, predicate=is_shell, cursor=first.next_cursor
    )
    assert [r.receipt_id for r in rest.items] == ["r5"] and rest.next_cursor is None
    # without a predicate it behaves as before
    assert len(repo.list_by_status("u1", Status.NEEDS_REVIEW, limit=50).items) == 7
