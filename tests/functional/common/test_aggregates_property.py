"""Property: any sequence of create / process / repeat / correct / retry / delete leaves the
aggregates equal to a recomputation from the receipts that remain."""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_src.common import keys
from lambda_src.common.model import LineItem, Receipt, Status, Vendor
from lambda_src.common.repository import ReceiptRepository, RepositoryError

RECEIPT_IDS = ["a", "b", "c"]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
currencies = st.sampled_from(["EUR", "USD"])
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 4, 30))
categories = st.sampled_from(["groceries", "dining", None])
vendors = st.sampled_from(["Tesco", "TESCO", "Aldi", None])

items = st.lists(
    st.builds(
        LineItem,
        description=st.sampled_from(["milk", "bread", "wine"]),
        amount=amounts,
        category=categories,
    ),
    max_size=3,
)

operation = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(RECEIPT_IDS)),
    st.tuples(
        st.just("process"),
        st.sampled_from(RECEIPT_IDS),
        st.fixed_dictionaries(
            {
                "status": st.sampled_from([Status.PROCESSED, Status.NEEDS_REVIEW, Status.FAILED]),
                "total": amounts,
                "currency": currencies,
                "purchase_date": days,
                "line_items": items,
                "category": categories,
                "vendor": vendors.map(lambda name: Vendor(name=name)),
            }
        ),
    ),
    st.tuples(st.just("repeat"), st.sampled_from(RECEIPT_IDS)),
    st.tuples(
        st.just("correct"),
        st.sampled_from(RECEIPT_IDS),
        st.fixed_dictionaries(
            {},
            optional={
                "total": amounts,
                "currency": currencies,
                "purchase_date": days,
                "category": categories,
                "line_items": items,
            },
        ),
    ),
    st.tuples(st.just("retry"), st.sampled_from(RECEIPT_IDS)),
    st.tuples(st.just("delete"), st.sampled_from(RECEIPT_IDS)),
)


def recompute(receipts: list[Receipt]) -> dict[tuple[str, str, str, str], tuple[Decimal, int]]:
    """Aggregates from first principles, independent of the repository's delta logic."""
    out: dict[tuple[str, str, str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for r in receipts:
        if r.status not in (Status.PROCESSED, Status.NEEDS_REVIEW) or r.total is None or not r.currency:
            continue
        month = r.spend_date.strftime("%Y-%m")
        for key in (("M", month, r.currency, ""), ("V", month, r.currency, keys.vendor_key(r.vendor.name))):
            out[key][0] += r.total
            out[key][1] += 1
        for category, amount in r.category_split().items():
            out[("C", month, r.currency, category)][0] += amount
            out[("C", month, r.currency, category)][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items() if v[1] or v[0]}


def stored(repo: ReceiptRepository, user: str) -> dict[tuple[str, str, str, str], tuple[Decimal, int]]:
    return {
        (kind, month, currency, key): (Decimal(total), count)
        for kind in ("M", "C", "V")
        for month, currency, key, _label, total, count in repo.aggregate_cells(
            user, kind, "2000-01", "2099-12"
        )
    }


def test_aggregates_equal_a_recomputation(receipts_table: tuple[Any, str]) -> None:
    client, name = receipts_table
    repo = ReceiptRepository(name, client)
    users = (f"user{i}" for i in itertools.count())

    @settings(
        max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "1000")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(operation, max_size=8))
    def run(ops: list[tuple[Any, ...]]) -> None:
        user = next(users)
        last_result: dict[str, Receipt] = {}
        for op in ops:
            kind, rid = op[0], op[1]
            try:
                if kind == "create":
                    repo.create_pending(Receipt(receipt_id=rid, user_id=user))
                elif kind == "process":
                    current = repo.require(user, rid)
                    last_result[rid] = current.model_copy(update=op[2])
                    repo.complete(last_result[rid])
                elif kind == "repeat" and rid in last_result:
                    assert not repo.complete(last_result[rid]).applied
                elif kind == "correct":
                    repo.correct(user, rid, op[2])
                elif kind == "retry":
                    repo.reset_for_retry(user, rid)
                    last_result.pop(rid, None)
                elif kind == "delete":
                    repo.delete(user, rid)
                    last_result.pop(rid, None)
            except RepositoryError:
                pass  # refused operations (not found, wrong state) must change nothing
        assert stored(repo, user) == recompute(list(repo.iter_receipts(user)))
        # moto copies the whole table inside each transaction: keep it small.
        repo.erase_user(user)

    run()
