"""The forecast's backtest and the ML insights' speed, on synthetic histories (ml/synthetic.py).

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_forecast.py            # figures
    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_forecast.py --compare  # + alternatives
    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_forecast.py --tune     # + the grid

Seeds: the model's parameters were chosen on TUNE_SEED (``--tune`` reruns that grid); the
headline figures are on HELD_OUT_SEED, which nothing was tuned on (the unit test asserts
on a third seed). All figures are synthetic; --real adds the one real history we have.
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ml import anomalies, forecast
from ml.synthetic import synthetic_lake

TUNE_SEED = 1
HELD_OUT_SEED = 7
REAL_CSV = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ml" / "transactions_za.csv"


def _mean_of_last(k: int) -> forecast.Predictor:
    def predict(panel: forecast.Panel, t: int) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanmean(panel.values[:, max(0, t - k) : t], axis=1))

    return predict


def _last_month(panel: forecast.Panel, t: int) -> np.ndarray:
    return np.asarray(panel.values[:, t - 1])


def _seasonal_naive(panel: forecast.Panel, t: int) -> np.ndarray:
    last_year = panel.values[:, t - 12] if t >= 12 else np.full(len(panel.values), np.nan)
    return np.asarray(np.where(np.isfinite(last_year), last_year, panel.values[:, t - 1]))


def _gbm(refit_every: int = 6) -> forecast.Predictor:
    """A global gradient-boosted model over 12 scaled lags, the month, the category and the
    pooled season, trained on all series' columns before the origin (absolute error)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    cache: dict[int, HistGradientBoostingRegressor] = {}

    def features(panel: forecast.Panel, j: int, season: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lags = np.full((len(panel.values), 12), np.nan)
        lo = max(0, j - 12)
        lags[:, 12 - (j - lo) :] = panel.values[:, lo:j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            scale = np.nanmean(np.abs(lags), axis=1)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)
        moy = (panel.months[0] + j).month - 1
        codes = pd.factorize(panel.keys["category"])[0]
        x = np.column_stack(
            [
                lags / scale[:, None],
                np.full(len(lags), moy),
                codes,
                season[:, moy],
                np.isfinite(lags).sum(axis=1),
            ]
        )
        return x, scale

    def predict(panel: forecast.Panel, t: int) -> np.ndarray:
        season = forecast._season(panel, t, 30.0)
        key = t // refit_every
        if t < 13:  # the season and the lags need a year of columns to learn from
            return _mean_of_last(12)(panel, t)
        if key not in cache:
            xs, ys = [], []
            for j in range(3, t):
                x, scale = features(panel, j, season)
                y = panel.values[:, j] / scale
                ok = np.isfinite(y) & (np.isfinite(x[:, :12]).sum(axis=1) >= 3)
                xs.append(x[ok])
                ys.append(y[ok])
            model = HistGradientBoostingRegressor(
                loss="absolute_error",
                max_iter=150,
                learning_rate=0.05,
                categorical_features=[12, 13],
                random_state=0,
            )
            cache[key] = model.fit(np.concatenate(xs), np.concatenate(ys))
        x, scale = features(panel, t, season)
        out = cache[key].predict(np.nan_to_num(x, nan=np.nan)) * scale
        return np.asarray(np.maximum(np.nan_to_num(out), 0.0))

    return predict


def _line(name: str, r: forecast.BacktestResult) -> str:
    return (
        f"{name:<34} MAE {r.mae_model:.3f} vs seasonal-naive {r.mae_seasonal_naive:.3f} "
        f"(ratio {r.ratio:.3f}); "
        f"seasonal subset {r.mae_model_seasonal:.3f} vs {r.mae_seasonal_naive_seasonal:.3f} "
        f"(ratio {r.ratio_seasonal:.3f}); coverage {r.coverage:.3f}"
    )


def compare(monthly: pd.DataFrame) -> None:
    candidates: dict[str, Callable[[], forecast.BacktestResult]] = {
        "model (default ForecastParams)": lambda: forecast.backtest(monthly),
        "last month": lambda: forecast.backtest(monthly, predictor=_last_month),
        "mean of last 3 months": lambda: forecast.backtest(monthly, predictor=_mean_of_last(3)),
        "mean of last 12 months": lambda: forecast.backtest(monthly, predictor=_mean_of_last(12)),
        "model, no season (shrink 1e9)": lambda: forecast.backtest(
            monthly, params=forecast.ForecastParams(season_shrink=1e9)
        ),
        "model, no clipping": lambda: forecast.backtest(monthly, params=forecast.ForecastParams(clip=1e9)),
        "model + last-year term (w 0.15)": lambda: forecast.backtest(
            monthly, params=forecast.ForecastParams(year_weight=0.15)
        ),
        "model, halflife 3": lambda: forecast.backtest(monthly, params=forecast.ForecastParams(halflife=3.0)),
        "global HistGradientBoosting (refit/6)": lambda: forecast.backtest(monthly, predictor=_gbm()),
    }
    for name, run in candidates.items():
        start = time.perf_counter()
        result = run()
        print(f"{_line(name, result)}  [{time.perf_counter() - start:.1f} s]")
    naive = forecast.backtest(monthly, predictor=_seasonal_naive)
    print(f"{'(check) seasonal-naive as model':<34} ratio {naive.ratio:.3f}")


def tune(monthly: pd.DataFrame) -> None:
    grid = itertools.product((3.0, 6.0, 12.0), (0.0, 0.15), (30.0, 100.0), (1.5, 2.0, 1e9))
    rows = []
    for halflife, year_weight, shrink, clip in grid:
        params = forecast.ForecastParams(halflife, year_weight, shrink, clip)
        r = forecast.backtest(monthly, params=params)
        rows.append((r.mae_model, halflife, year_weight, shrink, clip, r.coverage))
    for mae, halflife, year_weight, shrink, clip, coverage in sorted(rows)[:8]:
        print(
            f"  MAE {mae:.4f}  halflife {halflife:.0f}  year_weight {year_weight:.2f}  "
            f"season_shrink {shrink:.0f}  clip {clip:g}  coverage {coverage:.3f}"
        )


def real_history() -> None:
    from tests.unit.ml.real_data import za_lake  # the fixture's reader, shared with the tests

    receipts, items = za_lake(REAL_CSV)
    monthly = forecast.monthly_spend(receipts, items)
    r = forecast.backtest(monthly)
    print(f"real (ZA bank debits, Aug-Nov 2023, {r.n_points} points): " + _line("model", r))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--compare", action="store_true", help="backtest the alternatives too (tuning seed)")
    parser.add_argument("--tune", action="store_true", help="the parameter grid on the tuning seed")
    parser.add_argument("--real", action="store_true", help="also the real history in tests/fixtures/ml")
    args = parser.parse_args()

    for label, seed in (("tuning seed", TUNE_SEED), ("held-out seed", HELD_OUT_SEED)):
        start = time.perf_counter()
        receipts, items = synthetic_lake(users=args.users, months=args.months, seed=seed)
        generated = time.perf_counter() - start
        monthly = forecast.monthly_spend(receipts, items)
        result = forecast.backtest(monthly)
        print(
            f"== {label} {seed}: {args.users} users, {args.months} months, {len(receipts):,} receipts, "
            f"{len(items):,} line items (generated in {generated:.1f} s)"
        )
        print(
            f"   series {result.n_series}, users with a point {result.n_users}, points {result.n_points}, "
            f"seasonal points {result.n_seasonal_points}, interval points {result.n_coverage_points}"
        )
        print("   " + _line("model", result))
        print(
            f"   goal ratio <= 0.9: {'met' if result.ratio <= 0.9 else 'NOT met'}; "
            f"interval {result.level:.0%} nominal, {result.coverage:.1%} measured"
        )
        for currency, (model, naive, n) in result.mae_by_currency.items():
            print(f"   {currency}: raw MAE {model:,.2f} vs seasonal-naive {naive:,.2f} ({n} points)")
        if args.compare and seed == TUNE_SEED:
            compare(monthly)
        if args.tune and seed == TUNE_SEED:
            tune(monthly)

    start = time.perf_counter()
    monthly = forecast.monthly_spend(receipts, items)
    spend = time.perf_counter() - start
    forecasts = forecast.forecast_next(monthly)
    predicted = time.perf_counter() - start - spend
    found = anomalies.find_anomalies(receipts, items)
    found_time = time.perf_counter() - start - spend - predicted
    print(
        f"== speed, {args.users} users ({len(receipts):,} receipts): monthly_spend {spend:.2f} s, "
        f"forecast_next {predicted:.2f} s ({sum(map(len, forecasts.values()))} forecasts), "
        f"find_anomalies {found_time:.2f} s ({sum(map(len, found.values()))} anomalies)"
    )
    if args.real:
        real_history()


if __name__ == "__main__":
    main()
