"""One training run: read the lake, train and evaluate, publish, write each user's insights.

Steps run in order and each leaves its output in ``checkpoints/{run_id}/`` of the models
store, with ``checkpoints/current.json`` naming the unfinished run. A run started while
one is unfinished resumes it: finished steps are read back, the categorizer continues
from its last saved epoch. A spot interruption (SIGTERM) therefore costs at most the
epochs since the last save, and the resumed run ends with the same result.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import pandas as pd

from lambda_src.api.insights import write_insights
from lambda_src.api.schemas import InsightSet
from ml import artifacts
from ml.anomalies import find_anomalies
from ml.categorizer.torch_model import TorchConfig
from ml.categorizer.train import score, train_categorizers
from ml.forecast import backtest, forecast_next, monthly_spend
from ml.labels import correction_examples, dataset
from ml.model_card import model_card
from ml.promotion import Decision, decide

CURRENT = "checkpoints/current.json"
STEPS = ("categorizer", "forecast", "anomalies", "publish", "insights")
MAX_ANOMALIES = 10


class Progress(Protocol):
    """What the command line shows (a bar locally, log lines on an instance)."""

    def step(self, name: str) -> None: ...
    def epoch(self, epoch: int, total: int, macro_f1: float) -> None: ...
    def note(self, text: str) -> None: ...


class Quiet:
    def step(self, name: str) -> None:
        pass

    def epoch(self, epoch: int, total: int, macro_f1: float) -> None:
        pass

    def note(self, text: str) -> None:
        pass


@dataclass(frozen=True)
class Lake:
    receipts: pd.DataFrame
    line_items: pd.DataFrame


@dataclass(frozen=True)
class Settings:
    env: str
    as_of: date
    torch: TorchConfig = field(default_factory=TorchConfig)


@dataclass
class RunReport:
    run_id: str
    version: str
    resumed: bool
    promoted: bool
    decision: str
    metrics: dict[str, Any]
    users_with_insights: int
    seconds: float
    artifacts: list[str] = field(default_factory=list)


def new_version(now: datetime) -> str:
    digest = hashlib.sha256(uuid.uuid4().bytes).hexdigest()[:8]
    return f"{now:%Y%m%dT%H%M%SZ}-{digest}"


def _month(day: date, back: int = 0) -> str:
    return str(pd.Period(day, freq="M") - back)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class Run:
    """The checkpointed state of one run in the models store."""

    def __init__(self, store: artifacts.Store, settings: Settings, now: datetime) -> None:
        self.store = store
        current = artifacts.read_json(store, CURRENT)
        self.resumed = bool(current and current.get("env") == settings.env)
        if current and self.resumed:
            self.run_id, self.version = current["run_id"], current["version"]
            self.as_of = date.fromisoformat(current["as_of"])
        else:
            self.version = new_version(now)
            self.run_id, self.as_of = self.version, settings.as_of
            artifacts.write_json(
                store,
                CURRENT,
                {
                    "run_id": self.run_id,
                    "version": self.version,
                    "env": settings.env,
                    "as_of": str(self.as_of),
                },
            )

    def key(self, name: str) -> str:
        return f"checkpoints/{self.run_id}/{name}"

    def done(self, step: str) -> dict[str, Any] | None:
        return artifacts.read_json(self.store, self.key(f"{step}.json"))

    def save(self, step: str, value: dict[str, Any]) -> dict[str, Any]:
        value = _jsonable(value)
        artifacts.write_json(self.store, self.key(f"{step}.json"), value)
        return value

    def finish(self) -> None:
        self.store.delete_prefix(f"checkpoints/{self.run_id}/")
        self.store.delete(CURRENT)


def run(
    settings: Settings,
    store: artifacts.Store,
    read_lake: Callable[[], Lake],
    *,
    write_item: Callable[[str, InsightSet, str, str], None] | None = None,
    erased_users: Callable[[], set[str]] = set,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunReport:
    """The whole run. ``write_item(sub, insights, version, generated_at)`` publishes one
    user's insights (None: nowhere to write, e.g. a dry run)."""
    started = time.monotonic()
    progress = progress or Quiet()
    state = Run(store, settings, now())
    if state.resumed:
        progress.note(f"resuming run {state.run_id} from its checkpoint")
    lake = read_lake()

    progress.step("categorizer")
    from lambda_src.ingest.model_categorizer import ExportedModel

    categorizer = state.done("categorizer")
    if categorizer is None:
        labelled = dataset(correction_examples(lake.line_items, lake.receipts))
        result = train_categorizers(
            labelled,
            state.version,
            settings.torch,
            resume=store.get(state.key("torch.state")),
            save=lambda data: store.put(state.key("torch.state"), data),
            should_stop=should_stop,
            on_epoch=lambda e, f1: progress.epoch(e, settings.torch.epochs, f1),
        )
        store.put(state.key("categorizer.npz"), result.shipped.to_bytes())
        previous = artifacts.latest_artifact(store, "categorizer.npz")
        test = labelled[labelled["split"] == "test"]
        result.metrics["previous_on_this_split"] = (
            score(ExportedModel.from_bytes(previous), test) if previous is not None else None
        )
        categorizer = state.save("categorizer", result.metrics)
    shipped_bytes = store.get(state.key("categorizer.npz"))
    if shipped_bytes is None:
        raise RuntimeError(
            f"checkpoint {state.key('categorizer.npz')} is missing; delete {CURRENT} and rerun"
        )

    progress.step("forecast")
    forecast = state.done("forecast")
    if forecast is None:
        monthly = monthly_spend(lake.receipts, lake.line_items)
        # The month in progress is forecast from the complete months before it.
        result_bt = backtest(monthly[monthly["month"].astype(str) < _month(state.as_of)])
        forecast = state.save(
            "forecast",
            {
                "backtest": backtest_dict(result_bt),
                "month": _month(state.as_of),
                "by_user": forecast_next(monthly, month=_month(state.as_of)),
            },
        )
    _stop_point(should_stop, "forecast")

    progress.step("anomalies")
    anomalies = state.done("anomalies")
    if anomalies is None:
        found: dict[str, list[dict[str, Any]]] = {}
        # The last complete month and the month in progress (where a big shop shows first).
        for month in (_month(state.as_of, 1), _month(state.as_of)):
            for user, items in find_anomalies(lake.receipts, lake.line_items, month=month).items():
                found.setdefault(user, []).extend(items)
        ranked = {u: sorted(a, key=lambda x: -float(x["score"]))[:MAX_ANOMALIES] for u, a in found.items()}
        anomalies = state.save("anomalies", {"by_user": ranked})
    _stop_point(should_stop, "anomalies")

    progress.step("publish")
    published = state.done("publish")
    if published is None:
        pointer = artifacts.latest(store)
        decision = decide(categorizer, forecast["backtest"], pointer)
        metrics = {
            "version": state.version,
            "as_of": str(state.as_of),
            "categorizer": categorizer,
            "forecast": forecast["backtest"],
            "promotion": decision.as_dict(),
        }
        store.put(artifacts.run_key(state.version, "categorizer.npz"), shipped_bytes)
        artifacts.write_json(store, artifacts.run_key(state.version, "metrics.json"), metrics)
        store.put(artifacts.run_key(state.version, "model_card.md"), model_card(metrics).encode())
        if decision.promote:
            artifacts.write_json(
                store,
                artifacts.LATEST,
                {"version": state.version, "promoted_at": now().isoformat(), "metrics": _summary(metrics)},
            )
        published = state.save("publish", {"metrics": metrics, "promoted": decision.promote})
    decision = Decision.from_dict(published["metrics"]["promotion"])

    progress.step("insights")
    users = _write_insights(state, forecast, anomalies, write_item, erased_users(), now)
    state.finish()
    return RunReport(
        run_id=state.run_id,
        version=state.version,
        resumed=state.resumed,
        promoted=bool(published["promoted"]),
        decision=decision.reason,
        metrics=published["metrics"],
        users_with_insights=users,
        seconds=time.monotonic() - started,
        artifacts=[
            artifacts.run_key(state.version, n) for n in ("categorizer.npz", "metrics.json", "model_card.md")
        ],
    )


def backtest_dict(result: Any) -> dict[str, Any]:
    """The backtest's figures for metrics.json (NaN, where nothing was measurable, as null)."""
    import dataclasses
    import math

    raw = {**dataclasses.asdict(result), "ratio": result.ratio, "ratio_seasonal": result.ratio_seasonal}
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in raw.items()}


def _stop_point(should_stop: Callable[[], bool], after: str) -> None:
    from ml.categorizer.torch_model import Interrupted

    if should_stop():
        raise Interrupted(f"stopped after {after}; its output is saved")


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    shipped = metrics["categorizer"]["shipped"]
    return {
        "categorizer": shipped,
        "categorizer_macro_f1": metrics["categorizer"]["test"][shipped]["macro_f1"],
        "forecast_mae_ratio": metrics["forecast"]["ratio"],
    }


def _write_insights(
    state: Run,
    forecast: dict[str, Any],
    anomalies: dict[str, Any],
    write_item: Callable[[str, InsightSet, str, str], None] | None,
    erased: set[str],
    now: Callable[[], datetime],
) -> int:
    if write_item is None:
        return 0
    users = sorted((set(forecast["by_user"]) | set(anomalies["by_user"])) - erased)
    generated_at = now().isoformat()
    for user in users:
        insights = InsightSet.model_validate(
            {"forecasts": forecast["by_user"].get(user, []), "anomalies": anomalies["by_user"].get(user, [])}
        )
        write_item(user, insights, state.version, generated_at)
    return len(users)


def dynamodb_writer(dynamodb: Any, table: str) -> Callable[[str, InsightSet, str, str], None]:
    """Insights into the table item the API reads (``lambda_src/api/insights.py``)."""

    def write(sub: str, insights: InsightSet, version: str, generated_at: str) -> None:
        write_insights(
            dynamodb, table, sub, model_version=version, generated_at=generated_at, insights=insights
        )

    return write
