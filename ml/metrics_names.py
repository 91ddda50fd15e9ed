"""The training run's CloudWatch metrics: one list of names that the trainer emits and the
stacks graph and alarm on (``stacks/training_stack.py``, ``stacks/monitoring_training.py``).

Pure standard library on purpose: the CDK app imports it without the ML dependencies.
"""

from __future__ import annotations

NAMESPACE = "receiptlake/training"
# Every datapoint carries this one dimension, valued with the environment's name (dev, prod).
DIMENSION_ENVIRONMENT = "Environment"

# 1 when a run finished and wrote its artifacts, 0 when it failed (the instance's user data
# also emits 0 when the trainer dies without reporting or outlives its time limit).
RUN_SUCCEEDED = "RunSucceeded"
# Wall-clock seconds of the run on this instance, resumed runs counting from their resume.
DURATION_SECONDS = "DurationSeconds"
# 1 when the run resumed from a checkpoint left by an interrupted (spot) run, else 0.
RESUMED = "Resumed"
# Macro-averaged F1 of the categorizer on the held-out split (0..1).
CATEGORIZER_MACRO_F1 = "CategorizerMacroF1"
# Backtest MAE of the forecast divided by a seasonal-naive forecast's MAE (< 1 is better).
FORECAST_MAE_RATIO = "ForecastMaeRatio"
# 1 when the run moved latest.json to its version, 0 when the new model was worse.
PROMOTED = "Promoted"

ALL_METRICS: tuple[str, ...] = (
    RUN_SUCCEEDED,
    DURATION_SECONDS,
    RESUMED,
    CATEGORIZER_MACRO_F1,
    FORECAST_MAE_RATIO,
    PROMOTED,
)
