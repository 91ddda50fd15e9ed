"""`receiptlake local train`: the training layer on this machine.

The same run as on the EC2 instances (``ml.pipeline.run``), against the local lake
(``receiptlake local etl`` writes it) and local mode's models bucket and table: live in
the running local mode when it runs, else in the state it saved (``local up`` loads it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from lambda_src.api.insights import INSIGHTS_SK, insights_item
from lambda_src.api.schemas import InsightSet
from lambda_src.common import keys
from receiptlake import lake
from receiptlake.local.etl import NoLocalData, read_table
from receiptlake.local.provision import LocalNames, client
from receiptlake.local.running import find_running

Writer = Callable[[str, InsightSet, str, str], None]


@dataclass(frozen=True)
class LocalTarget:
    models: Any  # ml.artifacts.Store
    write_item: Writer
    erased_users: set[str]
    description: str


def read_local_lake(lake_dir: Path) -> Any:
    from ml.pipeline import Lake

    try:
        return Lake(lake.read("receipts", lake_dir=lake_dir), lake.read("line_items", lake_dir=lake_dir))
    except lake.LakeError as exc:
        raise NoLocalData(str(exc)) from None


def local_target(state_dir: Path) -> LocalTarget:
    """Where the run's models and insights go: the running local mode, else its saved state."""
    from ml.artifacts import LocalStore, S3Store
    from ml.pipeline import dynamodb_writer

    names = LocalNames()
    erased = set(read_table(state_dir).erased_users)
    running = find_running(state_dir)
    if running is not None:
        s3 = client("s3", running.endpoint, running.region)
        dynamodb = client("dynamodb", running.endpoint, running.region)
        return LocalTarget(
            S3Store(s3, names.models_bucket),
            dynamodb_writer(dynamodb, running.table),
            erased,
            f"running local mode at {running.endpoint}",
        )
    return LocalTarget(
        LocalStore(state_dir / "s3" / names.models_bucket),
        SavedTableWriter(state_dir / "dynamodb.jsonl"),
        erased,
        f"saved local state in {state_dir} (shown after the next `receiptlake local up`)",
    )


class SavedTableWriter:
    """Insights items into the saved table (``dynamodb.jsonl``, one typed item per line),
    replacing the user's previous insights item as a PutItem would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, sub: str, insights: InsightSet, version: str, generated_at: str) -> None:
        item = insights_item(sub, model_version=version, generated_at=generated_at, insights=insights)
        pk, sk = keys.user_pk(sub), INSIGHTS_SK
        lines = self.path.read_text().splitlines() if self.path.exists() else []

        def same_key(line: str) -> bool:
            saved = json.loads(line)
            return bool(saved.get(keys.PK, {}).get("S") == pk and saved.get(keys.SK, {}).get("S") == sk)

        kept = [line for line in lines if line.strip() and not same_key(line)]
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text("".join(f"{line}\n" for line in [*kept, json.dumps(item)]))
        partial.replace(self.path)


class BarProgress:
    """A progress bar per step, and the epochs of the categorizer."""

    def __init__(self) -> None:
        from tqdm import tqdm

        from ml.pipeline import STEPS

        self._tqdm = tqdm
        self.steps = tqdm(total=len(STEPS), desc="training", unit="step", leave=True)
        self.epochs: Any = None

    def step(self, name: str) -> None:
        if self.epochs is not None:
            self.epochs.close()
            self.epochs = None
        if self.steps.n or name != "categorizer":
            self.steps.update(1)
        self.steps.set_postfix_str(name)

    def epoch(self, epoch: int, total: int, macro_f1: float) -> None:
        if self.epochs is None:
            self.epochs = self._tqdm(total=total, desc="  categorizer", unit="epoch", leave=False)
        self.epochs.update(1)
        self.epochs.set_postfix_str(f"validation macro-F1 {macro_f1:.3f}")

    def note(self, text: str) -> None:
        self._tqdm.write(text)

    def close(self) -> None:
        if self.epochs is not None:
            self.epochs.close()
        self.steps.update(self.steps.total - self.steps.n)
        self.steps.close()


def run_local_train(
    state_dir: Path,
    lake_dir: Path,
    *,
    as_of: date,
    epochs: int | None,
    progress: Any,
    should_stop: Callable[[], bool],
) -> tuple[Any, LocalTarget]:
    from ml.categorizer.torch_model import TorchConfig
    from ml.pipeline import Settings, run

    target = local_target(state_dir)
    data = read_local_lake(lake_dir)
    config = TorchConfig() if epochs is None else TorchConfig(epochs=epochs)
    report = run(
        Settings("local", as_of, config),
        target.models,
        lambda: data,
        write_item=target.write_item,
        erased_users=lambda: target.erased_users,
        should_stop=should_stop,
        progress=progress,
    )
    return report, target
