"""Every repository operation against moto, on a table built from the storage stack's schema."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from lambda_src.common.dynamodb import dynamodb_client
from lambda_src.common.model import LineItem, Receipt, Status, Vendor
from lambda_src.common.repository import (
    InvalidCursor,
    InvalidTransition,
    ReceiptExists,
    ReceiptNotFound,
    ReceiptRepository,
    VersionConflict,
)


@pytest.fixture
def repo(receipts_table: tuple[Any, str]) -> ReceiptRepository:
    client, name = receipts_table
    return ReceiptRepository(name, client)


def read_result(repo: ReceiptRepository, user: str, rid: str, **fields: Any) -> Receipt:
    current = repo.require(user, rid)
    values: dict[str, Any] = {
        "status": Status.PROCESSED,
        "vendor": Vendor(name="Corner Shop"),
        "purchase_date": date(2026, 3, 14),
        "currency": "EUR",
        "total": Decimal("12.40"),
        "tax": Decimal("1.40"),
        "line_items": [
            LineItem(description="coffee beans", amount=Decimal("8.00"), category="groceries"),
            LineItem(description="lighter", amount=Decimal("3.00"), category="household"),
        ],
        "category": "groceries",
    }
    values.update(fields)
    return current.model_copy(update=values)


def month_totals(repo: ReceiptRepository, user: str) -> dict[tuple[str, str], tuple[Decimal, int]]:
    return {
        (month, currency): (Decimal(total), count)
        for month, currency, _key, _label, total, count in repo.aggregate_cells(
            user, "M", "2000-01", "2099-12"
        )
    }


def test_create_then_get_returns_the_pending_receipt(repo: ReceiptRepository) -> None:
    created = repo.create_pending(
        Receipt(receipt_id="r1", user_id="alice", object_key="uploads/alice/r1.jpg")
    )
    assert repo.get("alice", "r1") == created
    assert created.status is Status.PENDING


def test_create_twice_is_refused(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    with pytest.raises(ReceiptExists):
        repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))


def test_another_users_receipt_is_not_found(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    assert repo.get("bob", "r1") is None
    with pytest.raises(ReceiptNotFound):
        repo.delete("bob", "r1")


def test_complete_moves_pending_to_processed_and_counts_spending(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    transition = repo.complete(read_result(repo, "alice", "r1"))
    assert transition.applied
    assert transition.receipt.version == 1 and transition.receipt.processed_at is not None
    assert month_totals(repo, "alice") == {("2026-03", "EUR"): (Decimal("12.40"), 1)}
    categories = {c[2]: Decimal(c[4]) for c in repo.aggregate_cells("alice", "C", "2026-03", "2026-03")}
    assert categories == {"groceries": Decimal("9.40"), "household": Decimal("3.00")}
    vendors = repo.aggregate_cells("alice", "V", "2026-03", "2026-03")
    assert [(v[2], v[3], Decimal(v[4])) for v in vendors] == [
        ("corner-shop", "Corner Shop", Decimal("12.40"))
    ]


def test_repeated_completion_changes_nothing(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    result = read_result(repo, "alice", "r1")
    assert [repo.complete(result).applied for _ in range(3)] == [True, False, False]
    assert month_totals(repo, "alice") == {("2026-03", "EUR"): (Decimal("12.40"), 1)}


def test_concurrent_completions_apply_once(aws_credentials: None) -> None:
    # Real concurrency needs a real server: moto in-process is not thread-safe.
    import boto3

    from receiptlake.local.moto_server import LocalAws
    from receiptlake.local.tables import create_receipts_table

    with LocalAws() as aws:
        client = boto3.client("dynamodb", endpoint_url=aws.endpoint, region_name="eu-west-1")
        create_receipts_table(client, "receipts")
        repo = ReceiptRepository("receipts", client)
        run_concurrent_completions(repo)


def run_concurrent_completions(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    result = read_result(repo, "alice", "r1")
    with ThreadPoolExecutor(max_workers=8) as pool:
        applied = list(pool.map(lambda _: repo.complete(result).applied, range(16)))
    assert applied.count(True) == 1
    assert month_totals(repo, "alice") == {("2026-03", "EUR"): (Decimal("12.40"), 1)}


def test_failed_receipts_do_not_count(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    failed = repo.require("alice", "r1").model_copy(
        update={"status": Status.FAILED, "failure_reason": "HEIC photos are not supported: export as JPEG"}
    )
    assert repo.complete(failed).applied
    assert month_totals(repo, "alice") == {}


def test_correction_moves_aggregates_by_the_difference_and_keeps_history(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    repo.complete(read_result(repo, "alice", "r1"))
    corrected = repo.correct(
        "alice", "r1", {"total": "15.00", "purchase_date": "2026-04-01"}, expected_version=1
    )
    assert corrected.version == 2
    assert corrected.corrected_fields == ["purchase_date", "total"]
    assert month_totals(repo, "alice") == {("2026-04", "EUR"): (Decimal("15.00"), 1)}
    history = list(repo._iter_partition("alice", "CORRECTION#r1#"))
    assert {(h["field"], h["old"], h["new"]) for h in history} == {
        ("total", '"12.40"', '"15.00"'),
        ("purchase_date", '"2026-03-14"', '"2026-04-01"'),
    }


def test_correction_with_a_stale_version_is_a_conflict(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    repo.complete(read_result(repo, "alice", "r1"))
    with pytest.raises(VersionConflict):
        repo.correct("alice", "r1", {"total": "1.00"}, expected_version=0)


def test_uncorrectable_fields_and_pending_receipts_are_refused(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    with pytest.raises(InvalidTransition, match="still being read"):
        repo.correct("alice", "r1", {"total": "1.00"})
    with pytest.raises(InvalidTransition, match="user_id"):
        repo.correct("alice", "r1", {"user_id": "mallory"})


def test_correcting_a_review_marks_it_processed(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    repo.complete(read_result(repo, "alice", "r1", status=Status.NEEDS_REVIEW, review_reasons=["total"]))
    fixed = repo.correct("alice", "r1", {"total": "11.00"}, new_status=Status.PROCESSED)
    assert fixed.status is Status.PROCESSED and fixed.review_reasons == []
    assert repo.list_by_status("alice", Status.NEEDS_REVIEW).items == []


def test_delete_reverses_aggregates(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    repo.complete(read_result(repo, "alice", "r1"))
    repo.delete("alice", "r1")
    assert repo.get("alice", "r1") is None
    assert month_totals(repo, "alice") == {}


def test_retry_takes_spending_out_until_read_again(repo: ReceiptRepository) -> None:
    repo.create_pending(Receipt(receipt_id="r1", user_id="alice"))
    repo.complete(read_result(repo, "alice", "r1", status=Status.NEEDS_REVIEW))
    again = repo.reset_for_retry("alice", "r1")
    assert again.status is Status.PENDING
    assert month_totals(repo, "alice") == {}
    assert repo.complete(read_result(repo, "alice", "r1")).applied
    assert month_totals(repo, "alice") == {("2026-03", "EUR"): (Decimal("12.40"), 1)}
    with pytest.raises(InvalidTransition):
        repo.reset_for_retry("alice", "r1")


def test_list_by_date_pages_with_a_cursor_newest_first(repo: ReceiptRepository) -> None:
    for day in range(1, 8):
        rid = f"r{day}"
        repo.create_pending(Receipt(receipt_id=rid, user_id="alice"))
        repo.complete(read_result(repo, "alice", rid, purchase_date=date(2026, 3, day)))
    repo.create_pending(Receipt(receipt_id="other", user_id="bob"))
    seen: list[str] = []
    cursor = None
    while True:
        page = repo.list_by_date("alice", date(2026, 3, 2), date(2026, 3, 6), cursor=cursor, limit=2)
        seen += [r.receipt_id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ["r6", "r5", "r4", "r3", "r2"]


def test_list_with_a_predicate_still_fills_pages(repo: ReceiptRepository) -> None:
    for i in range(6):
        repo.create_pending(Receipt(receipt_id=f"r{i}", user_id="alice"))
        vendor = "Tesco" if i % 2 else "Aldi"
        repo.complete(read_result(repo, "alice", f"r{i}", vendor=Vendor(name=vendor)))
    page = repo.list_by_date("alice", limit=2, predicate=lambda r: r.vendor.name == "Tesco")
    assert [r.vendor.name for r in page.items] == ["Tesco", "Tesco"]
    rest = repo.list_by_date(
        "alice", limit=2, cursor=page.next_cursor, predicate=lambda r: r.vendor.name == "Tesco"
    )
    assert len(rest.items) == 1 and rest.next_cursor is None


def test_a_cursor_from_another_user_is_refused(repo: ReceiptRepository) -> None:
    for i in range(3):
        repo.create_pending(Receipt(receipt_id=f"r{i}", user_id="alice"))
    cursor = repo.list_by_date("alice", limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        repo.list_by_date("bob", limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        repo.list_by_date("alice", limit=1, cursor="not-a-cursor!")


def test_erase_user_removes_everything_of_that_user_only(repo: ReceiptRepository) -> None:
    for user in ("alice", "bob"):
        repo.create_pending(Receipt(receipt_id="r1", user_id=user))
        repo.complete(read_result(repo, user, "r1"))
    erased = repo.erase_user("alice")
    assert erased["receipt"] == 1 and erased["aggregate"] >= 3
    assert repo.get("alice", "r1") is None and month_totals(repo, "alice") == {}
    assert repo.get("bob", "r1") is not None


def test_aggregate_cells_are_the_non_empty_rows_as_sent(repo: ReceiptRepository) -> None:
    for rid, vendor, day, total in (
        ("r1", "Corner Shop", date(2026, 3, 14), "12.40"),
        ("r2", "CORNER SHOP ", date(2026, 3, 20), "7.6"),
        ("r3", None, date(2026, 4, 2), "100"),
        ("r4", "Baker", date(2026, 5, 2), "3.00"),
    ):
        repo.create_pending(Receipt(receipt_id=rid, user_id="alice"))
        repo.complete(
            read_result(
                repo, "alice", rid, vendor=Vendor(name=vendor), purchase_date=day, total=Decimal(total)
            )
        )
    repo.delete("alice", "r4")  # leaves May's items at zero: they are not listed
    for kind in ("M", "C", "V"):
        cells = repo.aggregate_cells("alice", kind, "2026-01", "2026-12")
        assert cells and cells == sorted(cells, key=lambda c: (c[0], c[1], c[2]))  # key order
        assert all(isinstance(cell[4], str) for cell in cells)
        assert all(month < "2026-05" for month, *_ in cells)
    # one vendor key for both spellings, labelled with the last; the amount as the table
    # sent it (moto keeps "20.00", DynamoDB would send "20")
    [(month, currency, key, label, total, count)] = repo.aggregate_cells("alice", "V", "2026-03", "2026-03")
    assert (month, currency, key, label, Decimal(total), count) == (
        "2026-03",
        "EUR",
        "corner-shop",
        "CORNER SHOP ",
        Decimal("20"),
        2,
    )
    assert repo.aggregate_cells("alice", "V", "2026-04", "2026-04")[0][2:4] == ("unknown", "Unknown vendor")
    # The API's client decodes the items straight into structs: the same cells.
    typed = ReceiptRepository(repo.table_name, dynamodb_client(region_name="eu-west-1"))
    for kind in ("M", "C", "V"):
        assert typed.aggregate_cells("alice", kind, "2026-01", "2026-12") == repo.aggregate_cells(
            "alice", kind, "2026-01", "2026-12"
        )
