"""Next month's spend per user, currency and category, with an interval; and its backtest.

The series are short (a user has months, rarely years), sparse per category and noisy, so
the model is deliberately small and global where it can be:

* a **pooled seasonal profile**: for each category, how each calendar month compares with
  its year, averaged over every user's series (shrunk toward flat by a pseudo-count, so a
  category with little history has no season);
* the user's **recent level**: an exponentially weighted mean of the deseasonalized
  history, with one-off spikes clipped first (a laptop bought in March says little about
  April);
* optionally, **the same month last year** (deseasonalized), when the series has it.

``predicted = season[category, month] * ((1 - w) * level + w * last_year)``. The halflife,
``w``, the shrinkage and the clipping were chosen by the backtest on one synthetic seed
(bench/README.md gives the grid and the alternatives: last month, means of 3 and 12
months, a global gradient-boosted model); the tests assert the ratio on another seed.
The backtest put ``w`` at 0: a single month a year ago is too noisy to help, its season
is better taken from the pooled profile.

The interval comes from the backtest's own residuals: one-step-ahead errors divided by a
series scale (``max(predicted, half the series' recent mean)``), their empirical quantiles
per category (pooled over users, all categories when a category has few), scaled back.
Coverage is measured on points whose quantiles came only from earlier origins.

A series gets a forecast when, before the forecast month, it has at least ``min_history``
months (default 3), spending in at least 2 of its last 12 months (a one-off is not a
habit), and its user was active in one of the last 3 months (the months after the user's
last receipt count as zero spending; a longer silence is an idle user, not zero spend).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from lambda_src.common.categories import canonical

ALL = "all"  # pseudo-category of monthly_spend: all spending of a user in a currency
SPEND_STATUSES = ("PROCESSED", "NEEDS_REVIEW")
KEYS = ["user_id", "currency", "category"]
MIN_HISTORY = 3
MIN_ACTIVE_MONTHS = 2  # months with spending among the last 12 before a forecast
MAX_IDLE_MONTHS = 2  # months without any receipt before the forecast month
MIN_RESIDUALS = 30  # residuals a category needs for its own interval quantiles


# ---- monthly spend ---------------------------------------------------------------------
def _category(value: object) -> str:
    return canonical(value if isinstance(value, str) else None)


def _floats(column: pd.Series) -> np.ndarray:
    # Decimal objects (the lake's money), floats or strings: all become float64, None -> NaN
    return pd.to_numeric(column.map(lambda v: None if v is None else float(v)), errors="coerce").to_numpy(
        dtype=float
    )


LINE_COLUMNS = [
    "user_id",
    "receipt_id",
    "currency",
    "month",
    "spend_date",
    "vendor_key",
    "vendor_name",
    "category",
    "receipt_category",
    "description",
    "amount",
]


def spend_lines(receipts: pd.DataFrame, line_items: pd.DataFrame) -> pd.DataFrame:
    """The spending, one row per line item plus one per receipt remainder (``description``
    NaN), as floats: the rows of a receipt add up to its total.

    Receipts count when PROCESSED or NEEDS_REVIEW with a currency, a total and a spend
    date; refunds count negative. Whatever the line items do not explain (tax, tip, an
    unread line) goes to the receipt's own category."""
    r = receipts.loc[receipts["status"].isin(SPEND_STATUSES)]
    r = r.loc[r["currency"].notna() & r["spend_date"].notna() & r["total"].notna()]
    total = _floats(r["total"])
    refund = (
        r["is_refund"].fillna(False).astype(bool).to_numpy() if "is_refund" in r else np.zeros(len(r), bool)
    )
    vendor_name = r["vendor_name"] if "vendor_name" in r else pd.Series(np.nan, index=r.index)
    vendor_key = r["vendor_key"] if "vendor_key" in r else pd.Series(np.nan, index=r.index)
    # A receipt without a normalized vendor still groups by the name it was read with.
    vendor_key = vendor_key.fillna(vendor_name.str.strip().str.lower())
    heads = pd.DataFrame(
        {
            "user_id": r["user_id"].to_numpy(),
            "receipt_id": r["receipt_id"].to_numpy(),
            "currency": r["currency"].to_numpy(),
            "month": pd.PeriodIndex(pd.to_datetime(r["spend_date"]), freq="M"),
            "spend_date": pd.to_datetime(r["spend_date"]).to_numpy(),
            "vendor_key": vendor_key.to_numpy(),
            "vendor_name": vendor_name.fillna(vendor_key).to_numpy(),
            "total": np.where(refund, -np.abs(total), total),
            "refund": refund,
            "receipt_category": r["category"].map(_category).to_numpy(),
        }
    ).dropna(subset=["total"])

    li = line_items.loc[:, ["user_id", "receipt_id", "description", "amount", "category"]].copy()
    li["amount"] = _floats(li["amount"])
    li = li.dropna(subset=["amount"]).merge(heads, on=["user_id", "receipt_id"])
    li["amount"] = np.where(li["refund"], -li["amount"].abs(), li["amount"])
    li["category"] = li["category"].map(_category)
    # An item nobody could categorize belongs with its receipt rather than apart.
    li["category"] = li["category"].where(li["category"] != canonical(None), li["receipt_category"])

    explained = li.groupby(["user_id", "receipt_id"], as_index=False)["amount"].sum()
    rest = heads.merge(explained, on=["user_id", "receipt_id"], how="left")
    rest["amount"] = rest["total"] - rest["amount"].fillna(0.0)
    rest = rest.loc[rest["amount"].abs() > 0.005]
    rest["category"] = rest["receipt_category"]
    rest["description"] = np.nan
    return pd.concat([li[LINE_COLUMNS], rest[LINE_COLUMNS]], ignore_index=True)


def monthly_spend(receipts: pd.DataFrame, line_items: pd.DataFrame) -> pd.DataFrame:
    """Spend per user, currency, category (plus ``ALL``) and month, as floats.

    The rows are ``spend_lines``' (so a receipt's categories add up to its total, refunds
    count negative). Months without spending between a user's first month in a currency
    and the user's last month in any currency are zeros."""
    parts = spend_lines(receipts, line_items)
    out_columns = [*KEYS, "month", "amount"]
    if parts.empty:
        return pd.DataFrame(columns=out_columns)
    by_category = parts.groupby([*KEYS, "month"], as_index=False)["amount"].sum()
    everything = (
        parts.groupby(["user_id", "currency", "month"], as_index=False)["amount"].sum().assign(category=ALL)
    )
    sums = pd.concat([by_category, everything], ignore_index=True)

    starts = sums.groupby(["user_id", "currency"])["month"].min()
    ends = sums.groupby("user_id")["month"].max()
    grid = pd.DataFrame(
        [
            (user, currency, month)
            for (user, currency), start in starts.items()
            for month in pd.period_range(start, ends[user], freq="M")
        ],
        columns=["user_id", "currency", "month"],
    )
    series = sums[KEYS].drop_duplicates()
    full = series.merge(grid, on=["user_id", "currency"]).merge(sums, on=[*KEYS, "month"], how="left")
    full["amount"] = full["amount"].fillna(0.0).round(2)
    return full[out_columns].sort_values([*KEYS, "month"], ignore_index=True)


# ---- the panel: one row per series, one column per month --------------------------------
@dataclass(frozen=True)
class Panel:
    keys: pd.DataFrame  # user_id, currency, category of each row
    months: pd.PeriodIndex
    values: np.ndarray  # series x months, NaN outside a series' range

    @classmethod
    def from_monthly(cls, monthly: pd.DataFrame, *, until: pd.Period | None = None) -> Panel:
        """The series up to ``until`` (inclusive; default the last month of the data)."""
        frame = monthly.assign(month=pd.PeriodIndex(monthly["month"].astype(str), freq="M"))
        if until is not None:
            frame = frame.loc[frame["month"] <= until]
        wide = frame.pivot_table(index=KEYS, columns="month", values="amount", aggfunc="sum", observed=True)
        last = until if until is not None else frame["month"].max()
        months = pd.period_range(frame["month"].min() if len(frame) else last, last, freq="M")
        wide = wide.reindex(columns=months)
        return cls(wide.index.to_frame(index=False), months, wide.to_numpy(dtype=float))


@dataclass(frozen=True)
class ForecastParams:
    """The model's knobs (defaults chosen by the backtest, see bench/README.md)."""

    halflife: float = 6.0  # months, of the level's exponential weights
    year_weight: float = 0.0  # weight of the same month last year, when the series has it
    season_shrink: float = 30.0  # pseudo-count of "flat" in each (category, month) season cell
    clip: float = 2.0  # robust z above which a month is clipped before it enters the level


def _season(panel: Panel, t: int, shrink: float) -> np.ndarray:
    """series x 12: each series' category's seasonal index, from the columns before t."""
    hist = panel.values[:, :t]
    moy = panel.months.month.to_numpy()[:t] - 1
    codes, _ = pd.factorize(panel.keys["category"])
    ncat = int(codes.max()) + 1 if len(codes) else 0
    sums = np.zeros((ncat, 12))
    counts = np.zeros((ncat, 12))
    if t >= 12:
        year = pd.DataFrame(hist.T).rolling(12, center=True, min_periods=12).mean().to_numpy().T
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.clip(hist / year, 0.0, 4.0)
        ok = np.isfinite(ratio) & (year > 0)
        rows, cols = np.nonzero(ok)
        np.add.at(sums, (codes[rows], moy[cols]), ratio[rows, cols])
        np.add.at(counts, (codes[rows], moy[cols]), 1.0)
    profile = (sums + shrink) / (counts + shrink)
    profile /= profile.mean(axis=1, keepdims=True)
    return profile[codes] if ncat else np.ones((0, 12))


def predict(panel: Panel, t: int, params: ForecastParams) -> np.ndarray:
    """One-step-ahead prediction of column t for every series, from the columns before t."""
    hist = panel.values[:, :t]
    season = _season(panel, t, params.season_shrink)
    moy = panel.months.month.to_numpy() - 1
    target_moy = (panel.months[0] + t).month - 1
    flat = hist / season[:, moy[:t]]
    recent = flat[:, -12:]
    with warnings.catch_warnings():  # a series without history has NaN level: no forecast
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(recent, axis=1, keepdims=True)
        mad = 1.4826 * np.nanmedian(np.abs(recent - median), axis=1, keepdims=True)
        typical = np.nanmean(np.abs(recent), axis=1, keepdims=True)
    # The scale's floor keeps a sparse series (median 0, MAD 0) from clipping all it has.
    cap = median + params.clip * np.maximum(mad, typical)
    clipped = np.where(flat > cap, cap, flat)
    level = pd.DataFrame(clipped.T).ewm(halflife=params.halflife, ignore_na=True).mean().to_numpy()[-1]
    last_year = flat[:, t - 12] if t >= 12 else np.full(len(hist), np.nan)
    blended = np.where(
        np.isfinite(last_year), (1 - params.year_weight) * level + params.year_weight * last_year, level
    )
    return np.asarray(np.maximum(blended * season[:, target_moy], 0.0))


def _eligible(panel: Panel, t: int, min_history: int) -> np.ndarray:
    hist = panel.values[:, :t]
    recent = hist[:, -12:]
    return np.asarray(
        (np.isfinite(hist).sum(axis=1) >= min_history)
        & ((np.nan_to_num(recent) != 0).sum(axis=1) >= MIN_ACTIVE_MONTHS)
        & np.isfinite(hist[:, -1])
    )


# ---- rolling origin ---------------------------------------------------------------------
@dataclass
class _Rolling:
    """Every one-step-ahead point of the history, and the interval quantiles at the end."""

    series: np.ndarray
    t: np.ndarray
    actual: np.ndarray
    predicted: np.ndarray
    seasonal_naive: np.ndarray
    has_last_year: np.ndarray
    covered: np.ndarray  # 1/0, NaN where no earlier residuals gave an interval
    quantiles: dict[str, tuple[float, float]] = field(default_factory=dict)


def _scale(hist: np.ndarray, pred: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        recent = np.nanmean(np.abs(hist[:, -12:]), axis=1)
    return np.maximum(pred, 0.5 * np.nan_to_num(recent))


def _quantiles(residuals: dict[str, list[float]], level: float) -> dict[str, tuple[float, float]]:
    tails = ((1 - level) / 2, (1 + level) / 2)
    pooled = [r for values in residuals.values() for r in values]
    out: dict[str, tuple[float, float]] = {}
    if len(pooled) >= MIN_RESIDUALS:
        lo, hi = np.quantile(pooled, tails)
        out[""] = (float(lo), float(hi))
    for category, values in residuals.items():
        if len(values) >= MIN_RESIDUALS:
            lo, hi = np.quantile(values, tails)
            out[category] = (float(lo), float(hi))
    return out


def _interval(
    pred: np.ndarray, scale: np.ndarray, categories: np.ndarray, quantiles: dict[str, tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([quantiles.get(c, quantiles.get("", (np.nan, np.nan)))[0] for c in categories])
    hi = np.array([quantiles.get(c, quantiles.get("", (np.nan, np.nan)))[1] for c in categories])
    lower = np.maximum(np.minimum(pred + lo * scale, pred), 0.0)
    upper = np.maximum(pred + hi * scale, pred)
    return lower, upper


Predictor = Callable[[Panel, int], np.ndarray]  # column t of every series from the columns before t


def _rolling(panel: Panel, predictor: Predictor, min_history: int, level: float) -> _Rolling:
    categories = panel.keys["category"].to_numpy()
    residuals: dict[str, list[float]] = {}
    parts: list[tuple[np.ndarray, ...]] = []
    for t in range(min_history, panel.values.shape[1]):
        actual = panel.values[:, t]
        mask = _eligible(panel, t, min_history) & np.isfinite(actual)
        if not mask.any():
            continue
        pred = predictor(panel, t)
        hist = panel.values[:, :t]
        last_year = hist[:, t - 12] if t >= 12 else np.full(len(actual), np.nan)
        naive = np.where(np.isfinite(last_year), last_year, hist[:, -1])
        scale = _scale(hist, pred)
        quantiles = _quantiles(residuals, level)
        lower, upper = _interval(pred, scale, categories, quantiles)
        covered = np.where(np.isfinite(lower), ((actual >= lower) & (actual <= upper)).astype(float), np.nan)
        idx = np.nonzero(mask)[0]
        parts.append(
            (
                idx,
                np.full(len(idx), t),
                actual[idx],
                pred[idx],
                naive[idx],
                np.isfinite(last_year[idx]),
                covered[idx],
            )
        )
        scaled = (actual[idx] - pred[idx]) / np.where(scale[idx] > 0, scale[idx], 1.0)
        for category, value in zip(categories[idx], scaled, strict=True):
            residuals.setdefault(category, []).append(float(value))
    if not parts:
        empty = np.array([])
        return _Rolling(empty, empty, empty, empty, empty, empty.astype(bool), empty)
    series, origin, actual, predicted, naive, has_last_year, covered = (
        np.concatenate(c) for c in zip(*parts, strict=True)
    )
    return _Rolling(
        series, origin, actual, predicted, naive, has_last_year, covered, _quantiles(residuals, level)
    )


# ---- backtest ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BacktestResult:
    """Rolling-origin, one-step-ahead errors over the whole history.

    MAEs are of errors divided by each series' mean monthly spend, so a yen and a euro
    series, a heavy and a light user, weigh alike. Seasonal-naive predicts the same month
    last year; where a series has less than 12 months before the origin it falls back to
    the last month. The ``*_seasonal`` figures are on the points where a true seasonal
    value exists."""

    n_users: int
    n_series: int
    n_points: int
    mae_model: float
    mae_seasonal_naive: float
    n_seasonal_points: int
    mae_model_seasonal: float
    mae_seasonal_naive_seasonal: float
    coverage: float  # share of actuals inside the interval, on points that had one
    n_coverage_points: int
    level: float
    mae_by_currency: dict[str, tuple[float, float, int]]  # raw MAE: model, seasonal-naive, points

    @property
    def ratio(self) -> float:
        return self.mae_model / self.mae_seasonal_naive if self.mae_seasonal_naive else float("nan")

    @property
    def ratio_seasonal(self) -> float:
        if not self.mae_seasonal_naive_seasonal:
            return float("nan")
        return self.mae_model_seasonal / self.mae_seasonal_naive_seasonal


def backtest(
    monthly: pd.DataFrame,
    *,
    min_history: int = MIN_HISTORY,
    level: float = 0.8,
    params: ForecastParams | None = None,
    predictor: Predictor | None = None,
) -> BacktestResult:
    """Every month of every series that has ``min_history`` months before it (and passes the
    rule of forecast_next) is predicted from the months before it and compared.
    ``predictor`` replaces the model (the bench compares alternatives with it)."""
    panel = Panel.from_monthly(monthly)
    model = params or ForecastParams()
    run = _rolling(panel, predictor or (lambda p, t: predict(p, t, model)), min_history, level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        norm = np.nanmean(np.abs(panel.values), axis=1)
    s = run.series.astype(int)
    weight = 1.0 / np.where(norm[s] > 0, norm[s], 1.0)
    err_model = np.abs(run.actual - run.predicted) * weight
    err_naive = np.abs(run.actual - run.seasonal_naive) * weight
    seasonal = run.has_last_year.astype(bool)
    covered = run.covered[np.isfinite(run.covered)]
    currencies = panel.keys["currency"].to_numpy()[s]
    by_currency = {
        str(c): (
            float(np.mean(np.abs(run.actual - run.predicted)[currencies == c])),
            float(np.mean(np.abs(run.actual - run.seasonal_naive)[currencies == c])),
            int((currencies == c).sum()),
        )
        for c in sorted(set(currencies))
    }

    def mean(values: np.ndarray) -> float:
        return float(values.mean()) if len(values) else float("nan")

    return BacktestResult(
        n_users=int(
            panel.keys["user_id"].to_numpy()[s].size and len(set(panel.keys["user_id"].to_numpy()[s]))
        ),
        n_series=len(set(s)),
        n_points=len(s),
        mae_model=mean(err_model),
        mae_seasonal_naive=mean(err_naive),
        n_seasonal_points=int(seasonal.sum()),
        mae_model_seasonal=mean(err_model[seasonal]),
        mae_seasonal_naive_seasonal=mean(err_naive[seasonal]),
        coverage=mean(covered),
        n_coverage_points=len(covered),
        level=level,
        mae_by_currency=by_currency,
    )


# ---- forecast ---------------------------------------------------------------------------
def _cents(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def forecast_next(
    monthly: pd.DataFrame,
    *,
    month: str | None = None,
    level: float = 0.8,
    min_history: int = MIN_HISTORY,
    params: ForecastParams | None = None,
) -> dict[str, list[dict[str, object]]]:
    """Forecasts of ``month`` (default: the month after the data's last) per user_id, as
    dicts of ``lambda_src.api.schemas.Forecast``. Only months before ``month`` are used, so
    the pipeline passes the current (incomplete) month and its partial data stays out."""
    params = params or ForecastParams()
    months = pd.PeriodIndex(monthly["month"].astype(str), freq="M")
    if not len(months):
        return {}
    target = pd.Period(month, freq="M") if month else months.max() + 1
    panel = Panel.from_monthly(monthly, until=target - 1)
    values = panel.values.copy()
    # A series whose user went quiet for a month or two has spent nothing since (zeros);
    # beyond MAX_IDLE_MONTHS the user is idle and gets no forecast (its last column stays NaN).
    last = np.where(np.isfinite(values), np.arange(values.shape[1]), -1).max(axis=1)
    users = panel.keys["user_id"].to_numpy()
    user_last = pd.Series(last).groupby(users).transform("max").to_numpy()
    end = values.shape[1] - 1
    for row in np.nonzero((user_last >= end - MAX_IDLE_MONTHS) & (last >= 0))[0]:
        values[row, last[row] + 1 :] = 0.0
    panel = Panel(panel.keys, panel.months, values)
    run = _rolling(panel, lambda p, t: predict(p, t, params), min_history, level)
    extended = Panel(
        panel.keys,
        pd.period_range(panel.months[0], target, freq="M"),
        np.column_stack([values, np.full(len(values), np.nan)]),
    )
    t = len(panel.months)
    eligible = _eligible(extended, t, min_history)
    pred = predict(extended, t, params)
    scale = _scale(values, pred)
    categories = panel.keys["category"].to_numpy()
    quantiles = run.quantiles or {"": (-0.5, 0.5)}  # too little history to measure: +-50%
    lower, upper = _interval(pred, scale, categories, quantiles)
    out: dict[str, list[dict[str, object]]] = {}
    for row in np.nonzero(eligible)[0]:
        key = panel.keys.iloc[row]
        out.setdefault(str(key["user_id"]), []).append(
            {
                "currency": str(key["currency"]),
                "month": str(target),
                "category": None if key["category"] == ALL else str(key["category"]),
                "predicted": _cents(pred[row]),
                "lower": _cents(lower[row]),
                "upper": _cents(upper[row]),
            }
        )
    return out
