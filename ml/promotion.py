"""Whether a run's models replace ``latest``: only when they are not worse.

The categorizer is compared on today's held-out split, the previous model re-scored on it
(figures from different splits do not compare); a small tolerance keeps a retrain on the
same data, which differs by noise only, from being refused. The forecast is a method, not
stored weights: it must still beat seasonal-naive on the backtest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

F1_TOLERANCE = 0.005
MAX_FORECAST_RATIO = 1.0


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    new_macro_f1: float
    previous_macro_f1: float | None
    forecast_ratio: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Decision:
        return cls(**value)


def decide(
    categorizer: dict[str, Any], backtest: dict[str, Any], previous: dict[str, Any] | None
) -> Decision:
    new_f1 = float(categorizer["test"][categorizer["shipped"]]["macro_f1"])
    old = categorizer.get("previous_on_this_split")
    old_f1 = float(old["macro_f1"]) if old else None
    ratio = backtest.get("ratio")
    if ratio is not None and ratio > MAX_FORECAST_RATIO:
        return Decision(
            False, f"forecast MAE ratio {ratio:.3f} does not beat seasonal-naive", new_f1, old_f1, ratio
        )
    if previous is None or old_f1 is None:
        return Decision(True, "first model: nothing to compare with", new_f1, old_f1, ratio)
    if new_f1 + F1_TOLERANCE < old_f1:
        return Decision(
            False,
            f"categorizer macro-F1 {new_f1:.4f} is worse than {previous['version']}'s {old_f1:.4f} "
            "on the same held-out split",
            new_f1,
            old_f1,
            ratio,
        )
    return Decision(True, f"macro-F1 {new_f1:.4f} vs {old_f1:.4f} before: not worse", new_f1, old_f1, ratio)
