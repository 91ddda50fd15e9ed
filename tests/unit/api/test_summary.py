"""The summary body: the directly encoded JSON equals ``json.dumps`` of the plain-dict form,
fits the ``Summary`` model, keeps money as exact decimal strings, and ``top`` keeps the
right keys. The repository is a stub serving aggregate cells as DynamoDB sends them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambda_src.api.routes.analytics import _PLAIN_DECIMAL, Group, _Group, summary_json
from lambda_src.api.schemas import Summary, SummaryGroup
from lambda_src.common.aggregate_items import AggregateCell


def summarize(
    repo: Any,
    sub: str,
    from_month: str,
    to_month: str,
    group: Group,
    top: int | None = None,
) -> dict[str, Any]:
    """The summary body as plain dicts, computed the obvious way: the readable statement
    of what ``summary_json()`` encodes directly, which the tests below hold equal to it
    byte for byte."""
    monthly = repo.aggregate_cells(sub, "M", from_month, to_month)
    kind = group[0].upper()  # M, C, V
    detail = monthly if group == "month" else repo.aggregate_cells(sub, kind, from_month, to_month)
    currencies = sorted({c[1] for c in monthly} | {c[1] for c in detail})
    out = []
    for currency in currencies:
        rows = [c for c in detail if c[1] == currency]
        if top is not None:
            name = (lambda c: c[0]) if group == "month" else (lambda c: c[2])
            sums: dict[str, tuple[Decimal, int]] = {}
            for c in rows:
                total, count = sums.get(name(c), (Decimal(0), 0))
                sums[name(c)] = (total + Decimal(c[4]), count + c[5])
            ranked = sorted(sums, key=lambda k: (-sums[k][0], -sums[k][1], k))
            rows = [c for c in rows if name(c) in ranked[:top]]
        rows.sort(key=lambda c: (c[0], -Decimal(c[4]), c[2]))
        out.append(
            {
                "currency": currency,
                "total": format(sum((Decimal(c[4]) for c in monthly if c[1] == currency), Decimal(0)), "f"),
                "count": sum(c[5] for c in monthly if c[1] == currency),
                "groups": [
                    {
                        "key": month if group == "month" else f"{month}|{key}",
                        "label": month if group == "month" else label,
                        "total": format(Decimal(text), "f"),
                        "count": n,
                        "month": month,
                    }
                    for month, _currency, key, label, text, n in rows
                ],
            }
        )
    return {"from": from_month, "to": to_month, "group": group, "currencies": out}


def _dumps(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON by the standard library: what the route's body must equal."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


GROUPS: tuple[Group, ...] = ("month", "category", "vendor")


class StubRepository:
    """``aggregate_cells`` from a fixed list, filtered and ordered like the table's query."""

    def __init__(self, cells: dict[str, list[AggregateCell]]) -> None:
        self.cells = cells

    def aggregate_cells(self, user_id: str, kind: str, from_month: str, to_month: str) -> list[AggregateCell]:
        rows = [c for c in self.cells.get(kind, []) if from_month <= c[0] <= to_month]
        return sorted(rows, key=lambda c: (c[0], c[1], c[2]))


def _month(month: str, currency: str, total: str, count: int) -> AggregateCell:
    return (month, currency, "", month, total, count)


# Labels a person or the OCR could produce: quotes, backslashes, control characters,
# non-ASCII, an empty key; amounts in forms DynamoDB may send ("12.5", "-0.50", "1E+2").
CELLS: dict[str, list[AggregateCell]] = {
    "M": [
        _month("2026-01", "EUR", "130.5", 4),
        _month("2026-02", "EUR", "100", 2),
        _month("2026-02", "GBP", "7.25", 1),
        _month("2026-03", "EUR", "-0.50", 1),
    ],
    "V": [
        ("2026-01", "EUR", "tesco", "Tesco", "50.50", 2),
        ("2026-01", "EUR", "caf", 'Café "Zoë" \\ \n\t\x01', "50.5", 1),
        ("2026-01", "EUR", "aldi", "Aldi", "29.5", 1),
        ("2026-02", "EUR", "tesco", "TESCO", "1E+2", 2),
        ("2026-02", "GBP", "unknown", "Unknown vendor", "7.25", 1),
        ("2026-03", "EUR", "aldi", "Aldi", "-0.50", 1),
        ("2026-03", "EUR", "zz", "\u2603 snow \U0001f600", "0012.30", 1),
    ],
    "C": [
        ("2026-01", "EUR", "groceries", "groceries", "80", 3),
        ("2026-01", "EUR", "dining", "dining", "50.5", 1),
        ("2026-02", "EUR", "groceries", "groceries", "100.00", 2),
        ("2026-02", "GBP", "uncategorized", "uncategorized", "7.25", 1),
    ],
}
REPO: Any = StubRepository(CELLS)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("top", [None, 1, 2, 3, 1000])
@pytest.mark.parametrize("span", [("2026-01", "2026-12"), ("2026-02", "2026-02"), ("2030-01", "2030-12")])
def test_encoded_body_equals_the_dict_form(group: Group, top: int | None, span: tuple[str, str]) -> None:
    body = summary_json(REPO, "u1", *span, group, top)
    expected = summarize(REPO, "u1", *span, group, top)
    assert body == _dumps(expected)
    assert json.loads(body) == expected
    Summary.model_validate_json(body)  # the documented response model


def test_groups_are_ordered_and_money_stays_exact() -> None:
    body = summarize(REPO, "u1", "2026-01", "2026-12", "vendor")
    eur = body["currencies"][0]
    assert (eur["currency"], eur["total"], eur["count"]) == ("EUR", "230.00", 7)
    rows = [(g["key"], g["total"], g["count"]) for g in eur["groups"]]
    assert rows == [
        # by month, then amount (largest first; equal amounts by key), then key
        ("2026-01|caf", "50.5", 1),
        ("2026-01|tesco", "50.50", 2),
        ("2026-01|aldi", "29.5", 1),
        ("2026-02|tesco", "100", 2),  # "1E+2" written as a plain decimal
        ("2026-03|zz", "12.30", 1),
        ("2026-03|aldi", "-0.50", 1),
    ]
    assert all(isinstance(g["total"], str) for c in body["currencies"] for g in c["groups"])
    month = summarize(REPO, "u1", "2026-01", "2026-12", "month")["currencies"][0]["groups"]
    assert [(g["key"], g["label"], g["month"]) for g in month][:1] == [("2026-01", "2026-01", "2026-01")]


def test_top_keeps_the_largest_keys_over_the_period_and_every_month_of_them() -> None:
    full = summarize(REPO, "u1", "2026-01", "2026-12", "vendor")
    one = summarize(REPO, "u1", "2026-01", "2026-12", "vendor", top=1)
    # tesco 150.50 over two months beats caf 50.5, aldi 29.0, zz 12.30
    assert [g["key"] for g in one["currencies"][0]["groups"]] == ["2026-01|tesco", "2026-02|tesco"]
    # currency totals and counts still cover all spending
    assert [(c["currency"], c["total"], c["count"]) for c in one["currencies"]] == [
        (c["currency"], c["total"], c["count"]) for c in full["currencies"]
    ]
    two = summarize(REPO, "u1", "2026-01", "2026-12", "vendor", top=2)
    assert {g["key"].split("|")[1] for g in two["currencies"][0]["groups"]} == {"tesco", "caf"}
    # ties: equal totals rank by more receipts, then by key
    tied: Any = StubRepository(
        {
            "M": [_month("2026-01", "EUR", "30", 4)],
            "V": [
                ("2026-01", "EUR", "b", "B", "10", 1),
                ("2026-01", "EUR", "c", "C", "10.00", 2),
                ("2026-01", "EUR", "a", "A", "10.0", 1),
            ],
        }
    )
    ranked = [summarize(tied, "u1", "2026-01", "2026-01", "vendor", top=n) for n in (1, 2)]
    assert [[g["key"] for g in r["currencies"][0]["groups"]] for r in ranked] == [
        ["2026-01|c"],
        ["2026-01|a", "2026-01|c"],  # kept c and a; listed by amount, then key
    ]
    months = summarize(REPO, "u1", "2026-01", "2026-12", "month", top=1)
    assert [g["key"] for g in months["currencies"][0]["groups"]] == ["2026-01"]


@given(
    st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, allow_infinity=False)
)
def test_plain_decimal_strings_are_their_own_formatting(value: Decimal) -> None:
    for text in (str(value), format(value, "f")):
        if _PLAIN_DECIMAL.fullmatch(text):
            assert format(Decimal(text), "f") == text


@pytest.mark.parametrize("text", ["0", "-0", "12.5", "12.50", "-0.0001", "100", "123456789012.1234"])
def test_plain_decimal_examples(text: str) -> None:
    assert _PLAIN_DECIMAL.fullmatch(text) and format(Decimal(text), "f") == text


@pytest.mark.parametrize("text", ["1E+2", "012.5", "+5", "5.", ".5", " 5", "1e-7"])
def test_other_decimal_forms_are_formatted(text: str) -> None:
    assert not _PLAIN_DECIMAL.fullmatch(text)


_AMOUNTS = st.one_of(
    st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=2).map(str),
    st.sampled_from(["10", "10.0", "10.00", "1E+1", "0", "-0.50", "-0.5"]),
    # longer than float() orders exactly: the encoder must fall back to Decimal order
    st.sampled_from(["1234567890123.451", "1234567890123.4500001", "1234567890123.45", "0.0000000000000001"]),
)
_CELL_KEYS = st.sampled_from(["a", "a-b", "b", "tesco", "unknown", "z9"])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2026-01", "2026-02", "2026-03"]),
            st.sampled_from(["EUR", "GBP"]),
            _CELL_KEYS,
            st.text(max_size=8),
            _AMOUNTS,
            st.integers(min_value=1, max_value=9),
        ),
        max_size=40,
        unique_by=lambda c: (c[0], c[1], c[2]),
    ),
    st.sampled_from(GROUPS),
    st.sampled_from([None, 1, 2, 5]),
)
def test_any_cells_encode_as_the_dict_form(cells: list[AggregateCell], group: Group, top: int | None) -> None:
    months = {(c[0], c[1]): c for c in cells}  # one month row per (month, currency)
    repo: Any = StubRepository(
        {
            "M": [_month(m, cur, c[4], c[5]) for (m, cur), c in months.items()],
            "C" if group == "category" else "V": cells,
        }
    )
    body = summary_json(repo, "u1", "2026-01", "2026-12", group, top)
    assert body == _dumps(summarize(repo, "u1", "2026-01", "2026-12", group, top))


def test_the_encoded_group_has_the_models_fields_in_order() -> None:
    # A field added to the documented model must be added to the encoded struct too.
    assert _Group.__struct_fields__ == tuple(SummaryGroup.model_fields)
