"""Spending far from the user's own baseline, with what drove it, in one sentence.

One month is examined (``month``, default the data's last): its spending in each of the
user's currencies is compared with the same user's 12 months before it (months without
spending count as zero; months before the user's first receipt in that currency do not
count). Four kinds:

* ``month``: the month's total; ``category``: one category's spend in the month;
* ``vendor``: one vendor's spend in the month (a vendor never seen before is the case
  where the baseline is zero);
* ``receipt``: one receipt against the user's earlier receipts at that vendor (at least
  3), else in its category (at least 5).

Score: a robust z-score, ``(amount - median) / scale`` with ``scale = 1.4826 * MAD`` of the
baseline, floored at a quarter of the baseline's typical value (its median, or its mean
when the median is zero) and, for categories, vendors and receipts, at a tenth of the
user's usual month, so a flat or sparse history does not make every cent anomalous. An
anomaly needs ``score >= 3.5`` (Iglewicz and Hoaglin's cut-off for the modified z-score),
an excess of at least a tenth of the user's usual month, and at least 3 baseline months.
Only excess is reported: a low month is no alert, and the examined month may be
incomplete.

Drivers: the vendors, items and (for a month) categories whose spend in the month rose
most above their own baseline mean; means add up, so the drivers' excesses add up to the
anomaly's. When a finer anomaly explains the same money (a vendor that is the top driver of
a category anomaly, a receipt named by a vendor anomaly, or a category that makes most of
a month's excess), only the higher-scored one is kept. At most ``max_per_user`` per user,
by score. Currencies are never compared or summed together.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from lambda_src.common.categories import LABELS
from ml.forecast import spend_lines

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "INR": "₹"}
NO_DECIMALS = frozenset({"JPY", "KRW", "IDR", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "PYG"})
UC = ["user_id", "currency"]


@dataclass(frozen=True)
class AnomalyRules:
    threshold: float = 3.5  # robust z-score from which spending is anomalous
    baseline_months: int = 12
    min_baseline_months: int = 3
    scale_floor: float = 0.25  # of the baseline's typical value
    user_floor: float = 0.1  # of the user's usual month: scale floor and minimum excess
    min_vendor_receipts: int = 3
    min_category_receipts: int = 5
    max_per_user: int = 10


def money_text(amount: float, currency: str) -> str:
    """``€1,234.50``, ``¥12,000``, ``ZAR 1,234.50``."""
    number = f"{amount:,.0f}" if currency in NO_DECIMALS else f"{amount:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{currency} {number}"


def _label(slug: str) -> str:
    return LABELS.get(slug, slug.replace("_", " ").capitalize())


def _cents(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _robust(baseline: np.ndarray, rules: AnomalyRules) -> tuple[np.ndarray, np.ndarray]:
    """Median and the floored robust scale of each row (NaN = month outside the range)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(baseline, axis=1)
        mad = 1.4826 * np.nanmedian(np.abs(baseline - median[:, None]), axis=1)
        typical = np.where(median > 0, median, np.nanmean(np.abs(baseline), axis=1))
    return median, np.maximum(mad, rules.scale_floor * typical)


def _by_month(
    lines: pd.DataFrame, keys: list[str], months: pd.PeriodIndex, starts: pd.Series
) -> pd.DataFrame:
    """Spend per key and month over ``months`` (zeros filled, NaN before the user's start)."""
    wide = lines.pivot_table(index=keys, columns="month", values="amount", aggfunc="sum", observed=True)
    wide = wide.reindex(columns=months).fillna(0.0)
    first = wide.index.to_frame(index=False)[UC].merge(
        starts.rename("start").reset_index(), on=UC, how="left"
    )["start"]
    before = months.to_numpy()[None, :] < first.to_numpy()[:, None]
    return wide.mask(before)


class _Month:
    """The lines around one month of one dataset, and the helpers that explain it."""

    def __init__(self, lines: pd.DataFrame, target: pd.Period, rules: AnomalyRules) -> None:
        self.rules = rules
        self.target = target
        self.baseline = pd.period_range(target - rules.baseline_months, target - 1, freq="M")
        self.starts = lines.groupby(UC)["month"].min()
        self.lines = lines.loc[(lines["month"] >= self.baseline[0]) & (lines["month"] <= target)]
        self.now = self.lines.loc[self.lines["month"] == target]
        self.past_all = lines.loc[lines["month"] < target]
        totals = _by_month(self.lines, UC, self.baseline, self.starts)
        self.base_months = totals.notna().sum(axis=1)
        median, _ = _robust(totals.to_numpy(), rules)
        self.usual = pd.Series(median, index=totals.index)  # the user's usual month, per currency

    def ok(self, user: str, currency: str) -> bool:
        key = (user, currency)
        return bool(key in self.usual.index and self.base_months[key] >= self.rules.min_baseline_months)

    def drivers(self, mask: pd.Series | None, kinds: tuple[str, ...]) -> list[dict[str, object]]:
        """Top contributors (by excess over their baseline mean) among lines where ``mask``."""
        lines = (
            self.lines if mask is None else self.lines.loc[mask.reindex(self.lines.index, fill_value=False)]
        )
        if lines.empty:
            return []
        user, currency = lines.iloc[0]["user_id"], lines.iloc[0]["currency"]
        n_base = max(int(self.base_months.get((user, currency), 1)), 1)
        out: list[dict[str, object]] = []
        for kind, column, top in (
            ("category", "category", 2),
            ("vendor", "vendor_key", 3),
            ("item", "item", 3),
        ):
            if kind not in kinds:
                continue
            frame = lines.assign(item=lines["description"].str.strip().str.lower()).dropna(subset=[column])
            now = frame["month"] == self.target
            grouped = pd.DataFrame(
                {
                    "now": frame["amount"].where(now, 0.0).groupby(frame[column]).sum(),
                    "base": frame["amount"].where(~now, 0.0).groupby(frame[column]).sum() / n_base,
                }
            )
            grouped["excess"] = grouped["now"] - grouped["base"]
            for key, row in grouped.loc[grouped["excess"] > 0].nlargest(top, "excess").iterrows():
                current = frame.loc[now & (frame[column] == key)]
                biggest = current.groupby("receipt_id")["amount"].sum().idxmax()
                label = {
                    "category": _label(str(key)),
                    "vendor": str(current["vendor_name"].mode().iloc[0]),
                    "item": str(current["description"].mode().iloc[0]),
                }[kind]
                out.append(
                    {
                        "kind": kind,
                        "label": label,
                        "amount": _cents(row["now"]),
                        "receipt_id": None if kind == "category" else str(biggest),
                        "_visits": int(current["receipt_id"].nunique()),
                    }
                )
        return out


def _where(month: _Month, **equal: object) -> pd.Series:
    mask = pd.Series(True, index=month.lines.index)
    for column, value in equal.items():
        mask &= month.lines[column] == value
    return mask


def _lead(drivers: list[dict[str, object]], amount: float, currency: str, share_of: float) -> str:
    vendors = [d for d in drivers if d["kind"] == "vendor"]
    if not vendors:
        return ""
    top = vendors[0]
    spent = float(str(top["amount"]))
    visits = int(str(top["_visits"]))
    detail = f"{money_text(spent, currency)}, {visits} visit{'s' if visits != 1 else ''}"
    how = "most of it" if spent >= 0.5 * share_of else "the largest part"
    return f"; {how} at {top['label']} ({detail})"


def _times(amount: float, usual: float) -> str:
    if usual <= 0:
        return "where most months you spend nothing"
    ratio = amount / usual
    return f"about {ratio:.1f}× your usual" if ratio < 10 else f"about {ratio:.0f}× your usual"


def _group_anomalies(month: _Month, kind: str, column: str | None) -> list[dict[str, object]]:
    rules = month.rules
    keys = UC if column is None else [*UC, column]
    if column is not None:
        current = month.now.dropna(subset=[column])[keys].drop_duplicates()
        lines = month.lines.merge(current, on=keys)
    else:
        lines = month.lines
    if lines.empty:
        return []
    wide = _by_month(lines, keys, pd.period_range(month.baseline[0], month.target, freq="M"), month.starts)
    values = wide.to_numpy()
    amount = values[:, -1]
    median, scale = _robust(values[:, :-1], rules)
    index = wide.index.to_frame(index=False)
    usual = month.usual.reindex(pd.MultiIndex.from_frame(index[UC])).to_numpy()
    if column is not None:
        scale = np.maximum(scale, rules.user_floor * np.nan_to_num(usual))
    with np.errstate(all="ignore"):
        score = (amount - median) / scale
    seen = (
        set(map(tuple, month.past_all[keys].dropna().drop_duplicates().to_numpy()))
        if kind == "vendor"
        else set()
    )
    out: list[dict[str, object]] = []
    for row in np.nonzero(
        (score >= rules.threshold)
        & (amount - median >= rules.user_floor * np.nan_to_num(usual))
        & (amount > 0)
    )[0]:
        key = index.iloc[row]
        user, currency = str(key["user_id"]), str(key["currency"])
        if not month.ok(user, currency):
            continue
        base = float(np.nan_to_num(median[row]))
        spent = float(amount[row])
        when = month.target.strftime("%B %Y")
        filt = {"user_id": user, "currency": currency}
        anomaly: dict[str, object] = {"kind": kind, "month": str(month.target), "currency": currency}
        if kind == "month":
            drivers = month.drivers(_where(month, **filt), ("category", "vendor", "item"))
            text = f"You spent {money_text(spent, currency)} in {when}, {_times(spent, base)}"
            text += f" {money_text(base, currency)} a month" if base > 0 else ""
        elif kind == "category":
            slug = str(key["category"])
            drivers = month.drivers(_where(month, **filt, category=slug), ("vendor", "item"))
            anomaly["category"] = slug
            label = _label(slug)
            text = f"You spent {money_text(spent, currency)} on {label} in {when}, {_times(spent, base)}"
            text += f" {money_text(base, currency)}" if base > 0 else ""
        else:
            vendor_key = key["vendor_key"]
            drivers = month.drivers(_where(month, **filt, vendor_key=vendor_key), ("item",))
            name = str(month.now.loc[month.now["vendor_key"] == vendor_key, "vendor_name"].mode().iloc[0])
            anomaly["vendor"] = name
            visits = month.now.loc[
                (month.now["vendor_key"] == vendor_key) & (month.now["user_id"] == user), "receipt_id"
            ].nunique()
            plural = "s" if visits != 1 else ""
            text = f"You spent {money_text(spent, currency)} at {name} in {when} ({visits} visit{plural})"
            if (user, currency, vendor_key) not in seen:
                text += ", a vendor you had not used before"
            else:
                text += (
                    f", {_times(spent, base)} {money_text(base, currency)} there"
                    if base > 0
                    else (", where you usually spend nothing in a month")
                )
        if kind in ("month", "category"):
            text += _lead(drivers, spent, currency, spent)
        elif drivers:
            text += (
                f"; mostly {drivers[0]['label']} ({money_text(float(str(drivers[0]['amount'])), currency)})"
            )
        anomaly.update(
            user_id=user,
            amount=_cents(spent),
            expected=_cents(base),
            explanation=text + ".",
            score=round(float(score[row]), 2),
            drivers=drivers,
        )
        out.append(anomaly)
    return out


def _receipt_stats(prior: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = prior.groupby(keys, dropna=False)["amount"]
    deviation = (prior["amount"] - grouped.transform("median")).abs()
    return pd.DataFrame(
        {
            "n": grouped.size(),
            "median": grouped.median(),
            "mad": 1.4826 * deviation.groupby([prior[k] for k in keys], dropna=False).median(),
            "mean": grouped.mean(),
        }
    ).reset_index()


def _receipt_anomalies(month: _Month) -> list[dict[str, object]]:
    rules = month.rules
    columns = [*UC, "receipt_id", "vendor_key", "vendor_name", "receipt_category"]
    prior = (
        month.past_all.loc[month.past_all["month"] >= month.target - 2 * rules.baseline_months]
        .groupby(columns, dropna=False, as_index=False)["amount"]
        .sum()
    )
    current = month.now.groupby(columns, dropna=False, as_index=False).agg(
        amount=("amount", "sum"), day=("spend_date", "first")
    )
    current = current.loc[current["amount"] > 0]
    if current.empty or prior.empty:
        return []
    by_vendor = _receipt_stats(prior.dropna(subset=["vendor_key"]), [*UC, "vendor_key"])
    by_category = _receipt_stats(prior, [*UC, "receipt_category"])
    frame = current.merge(by_vendor, on=[*UC, "vendor_key"], how="left").merge(
        by_category, on=[*UC, "receipt_category"], how="left", suffixes=("", "_category")
    )
    at_vendor = frame["n"].fillna(0) >= rules.min_vendor_receipts
    in_category = ~at_vendor & (frame["n_category"].fillna(0) >= rules.min_category_receipts)
    for name in ("median", "mad", "mean"):
        frame[name] = frame[name].where(at_vendor, frame[f"{name}_category"])
    usual = month.usual.reindex(pd.MultiIndex.from_frame(frame[UC])).to_numpy()
    typical = np.where(frame["median"] > 0, frame["median"], frame["mean"])
    scale = np.maximum.reduce(
        [frame["mad"].to_numpy(), rules.scale_floor * typical, rules.user_floor * np.nan_to_num(usual)]
    )
    with np.errstate(all="ignore"):
        frame["score"] = (frame["amount"] - frame["median"]) / scale
    flagged = frame.loc[
        (at_vendor | in_category)
        & (frame["score"] >= rules.threshold)
        & (frame["amount"] - frame["median"] >= rules.user_floor * np.nan_to_num(usual))
    ]
    out: list[dict[str, object]] = []
    for rec, by_vendor_flag in zip(flagged.itertuples(index=False), at_vendor[flagged.index], strict=True):
        if not month.ok(rec.user_id, rec.currency):
            continue
        category = str(rec.receipt_category)
        usual_at = "there" if by_vendor_flag else f"for {LABELS.get(category, category)}"
        items = month.now.loc[(month.now["receipt_id"] == rec.receipt_id) & month.now["description"].notna()]
        # The same product on several lines is one driver (two "RED WINE" lines: one bar).
        by_item = items.groupby(items["description"].astype(str).str.strip())["amount"].sum()
        drivers: list[dict[str, object]] = [
            {"kind": "item", "label": label, "amount": _cents(amount), "receipt_id": rec.receipt_id}
            for label, amount in by_item.nlargest(3).items()
        ]
        text = (
            f"A receipt of {money_text(rec.amount, rec.currency)} at {rec.vendor_name} on "
            f"{pd.Timestamp(rec.day).strftime('%-d %B %Y')} is {_times(rec.amount, rec.median)} "
            f"{money_text(rec.median, rec.currency)} {usual_at}"
        )
        if drivers:
            top = money_text(float(str(drivers[0]["amount"])), rec.currency)
            text += f"; mostly {drivers[0]['label']} ({top})"
        out.append(
            {
                "kind": "receipt",
                "user_id": rec.user_id,
                "receipt_id": rec.receipt_id,
                "month": str(month.target),
                "category": category,
                "vendor": rec.vendor_name,
                "currency": rec.currency,
                "amount": _cents(rec.amount),
                "expected": _cents(rec.median),
                "explanation": text + ".",
                "score": round(float(rec.score), 2),
                "drivers": drivers,
            }
        )
    return out


FINER = {"receipt": 0, "vendor": 1, "category": 2, "month": 3}


def _excess(anomaly: dict[str, object]) -> float:
    return float(str(anomaly["amount"])) - float(str(anomaly["expected"] or 0))


def _mentions(anomaly: dict[str, object]) -> set[tuple[object, object]]:
    drivers: list[dict[str, object]] = anomaly["drivers"]  # type: ignore[assignment]
    return {(d["kind"], d["label"]) for d in drivers} | {("receipt", d["receipt_id"]) for d in drivers}


def _names(anomaly: dict[str, object]) -> set[tuple[object, object]]:
    """What an anomaly is about, in the terms of _mentions."""
    names: set[tuple[object, object]] = {(anomaly["kind"], anomaly.get("vendor"))}
    if anomaly["kind"] == "receipt":
        names = {("receipt", anomaly["receipt_id"]), ("vendor", anomaly["vendor"])}
    elif anomaly["kind"] == "category":
        names = {("category", _label(str(anomaly["category"])))}
    return names


def _covered(candidate: dict[str, object], kept: dict[str, object]) -> bool:
    """Whether a kept (higher-scored) anomaly already tells the candidate's story: the
    candidate is among its drivers, or it is among the candidate's drivers and makes most
    of the candidate's excess."""
    if candidate["currency"] != kept["currency"] or candidate["kind"] == "month" == kept["kind"]:
        return False
    if FINER[str(candidate["kind"])] < FINER[str(kept["kind"])]:
        return bool(_names(candidate) & (_mentions(kept) | _names(kept)))
    explains = bool(_names(kept) & _mentions(candidate)) or candidate["kind"] == "month"
    return explains and _excess(kept) >= 0.5 * _excess(candidate)


def find_anomalies(
    receipts: pd.DataFrame,
    line_items: pd.DataFrame,
    *,
    month: str | None = None,
    rules: AnomalyRules | None = None,
) -> dict[str, list[dict[str, object]]]:
    """Anomalies of ``month`` (default: the last month in the data) per user_id, as dicts of
    ``lambda_src.api.schemas.Anomaly``, highest score first."""
    rules = rules or AnomalyRules()
    lines = spend_lines(receipts, line_items)
    if lines.empty:
        return {}
    target = pd.Period(month, freq="M") if month else lines["month"].max()
    lines = lines.loc[lines["month"] <= target]
    if not (lines["month"] == target).any():
        return {}
    data = _Month(lines, target, rules)
    found = [
        *_group_anomalies(data, "month", None),
        *_group_anomalies(data, "category", "category"),
        *_group_anomalies(data, "vendor", "vendor_key"),
        *_receipt_anomalies(data),
    ]
    out: dict[str, list[dict[str, object]]] = {}
    # On an equal score the finer anomaly is the better explanation (a new vendor is also a
    # new category with the same z when it is the category's only spending).
    for anomaly in sorted(found, key=lambda a: (-float(str(a["score"])), FINER[str(a["kind"])])):
        user = str(anomaly.pop("user_id"))
        kept = out.setdefault(user, [])
        if len(kept) < rules.max_per_user and not any(_covered(anomaly, k) for k in kept):
            for driver in anomaly["drivers"]:  # type: ignore[attr-defined]
                driver.pop("_visits", None)
            kept.append(anomaly)
    return {user: anomalies for user, anomalies in out.items() if anomalies}
