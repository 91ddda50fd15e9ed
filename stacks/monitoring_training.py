"""The monitoring stack's view of the training layer: the run and model figures the trainer
emits (names in ml/metrics_names.py), its alarms, and its row of the dashboard.

Two ways a retrain goes wrong: a run reports failure (``RunSucceeded`` = 0, from the
trainer or, for a crash, setup failure or the time limit, from the instance's user data),
or no run succeeds for ``training_stale_after_days`` (runs never start: no spot capacity,
a broken image, a schedule gone). CloudWatch evaluates an alarm over at most 7 days, so
with a weekly schedule "no success in 7 days" would fire during every run until it
succeeds; a composite alarm stays quiet while the group is running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from ml import metrics_names
from stacks.nag import acknowledge

if TYPE_CHECKING:
    from stacks.monitoring_stack import MonitoringStack

TRAINING_NAMESPACE = metrics_names.NAMESPACE
DAY = Duration.days(1)
# Training runs weekly: the dashboard's training graphs look back further than its default.
GRAPH_START = "-P35D"


def training_metric(stack: MonitoringStack, name: str, statistic: str, period: Duration = DAY) -> cw.Metric:
    return cw.Metric(
        namespace=TRAINING_NAMESPACE,
        metric_name=name,
        dimensions_map={metrics_names.DIMENSION_ENVIRONMENT: stack.config.name},
        statistic=statistic,
        period=period,
    )


def group_metric(stack: MonitoringStack, group_name: str, name: str, period: Duration) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/AutoScaling",
        metric_name=name,
        dimensions_map={"AutoScalingGroupName": group_name},
        statistic="Maximum",
        period=period,
    )


def training_alarms(stack: MonitoringStack, group_name: str) -> None:
    from stacks.monitoring_stack import RUNBOOK  # the stack imports this module

    stale_days = stack.config.training_stale_after_days
    stack._alarm(
        "training-run-failed",
        "A training run reported failure (or died, or outlived its time limit): the models and "
        "insights are as of the last good run.",
        training_metric(stack, metrics_names.RUN_SUCCEEDED, "Minimum"),
        1,
        comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
    )
    no_success = stack._alarm(
        "training-no-success",
        f"No training run succeeded in the last {stale_days} days.",
        training_metric(stack, metrics_names.RUN_SUCCEEDED, "Maximum"),
        1,
        comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
        missing=cw.TreatMissingData.BREACHING,
        evaluation_periods=stale_days,
        datapoints_to_alarm=stale_days,
        notify=False,
    )
    # Not an incident, so not on the dashboard's alarm row: it only holds the composite
    # quiet while a run is under way.
    in_progress = group_metric(stack, group_name, "GroupDesiredCapacity", Duration.minutes(5)).create_alarm(
        stack,
        "Alarm-training-in-progress",
        alarm_name=f"{stack.prefix}-training-in-progress",
        alarm_description=(
            "The training group is scaled out: a run is under way (input of training-stale, not "
            f"an incident). Runbook: {RUNBOOK}#training-in-progress"
        ),
        threshold=1,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
    )
    acknowledge(
        in_progress,
        ["NIST.800.53.R5-CloudWatchAlarmAction"],
        "Input of the training-stale composite alarm, which notifies the alarm topic; being in "
        "ALARM only means a run is under way.",
    )
    stale = cw.CompositeAlarm(
        stack,
        "Alarm-training-stale",
        composite_alarm_name=f"{stack.prefix}-training-stale",
        alarm_description=(
            f"No training run succeeded in {stale_days} days and none is running: the models and "
            f"insights are getting old. Runbook: {RUNBOOK}#training-stale"
        ),
        alarm_rule=cw.AlarmRule.all_of(
            cw.AlarmRule.from_alarm(no_success, cw.AlarmState.ALARM),
            cw.AlarmRule.not_(cw.AlarmRule.from_alarm(in_progress, cw.AlarmState.ALARM)),
        ),
    )
    stale.add_alarm_action(stack.action)
    stale.add_ok_action(stack.action)
    stack.alarms.append(stale)


def training_widgets(stack: MonitoringStack, group_name: str) -> list[cw.IWidget]:
    from stacks.monitoring_stack import WIDTH

    def graph(title: str, left: list[cw.IMetric], right: list[cw.IMetric] | None = None) -> cw.GraphWidget:
        return cw.GraphWidget(
            title=title, left=left, right=right or [], width=6, height=6, period=DAY, start=GRAPH_START
        )

    def m(name: str, statistic: str, label: str) -> cw.Metric:
        return training_metric(stack, name, statistic).with_(label=label)

    return [
        cw.TextWidget(markdown="## Training (spot, on schedule)", width=WIDTH, height=1),
        graph(
            "Runs: succeeded (1) / failed (0), resumed, promoted",
            [
                m(metrics_names.RUN_SUCCEEDED, "Minimum", "succeeded (min)"),
                m(metrics_names.RESUMED, "Maximum", "resumed from a checkpoint"),
                m(metrics_names.PROMOTED, "Maximum", "promoted to latest"),
            ],
        ),
        graph("Run duration (s)", [m(metrics_names.DURATION_SECONDS, "Maximum", "duration")]),
        graph(
            "Model quality",
            [m(metrics_names.CATEGORIZER_MACRO_F1, "Maximum", "categorizer macro F1")],
            [m(metrics_names.FORECAST_MAE_RATIO, "Maximum", "forecast MAE / seasonal naive")],
        ),
        cw.GraphWidget(
            title="Training instances",
            left=[
                group_metric(stack, group_name, "GroupDesiredCapacity", Duration.hours(1)).with_(
                    label="desired"
                ),
                group_metric(stack, group_name, "GroupInServiceInstances", Duration.hours(1)).with_(
                    label="in service"
                ),
            ],
            width=6,
            height=6,
            period=Duration.hours(1),
            start=GRAPH_START,
        ),
    ]
