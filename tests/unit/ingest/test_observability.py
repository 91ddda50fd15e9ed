"""Metrics go to CloudWatch as EMF on stdout in Lambda, and nowhere when disabled (local mode)."""

from __future__ import annotations

import json

import pytest

from lambda_src.ingest.observability import PowertoolsTelemetry


def test_a_dimensioned_count_is_one_emf_line_with_its_dimensions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given metrics enabled, as in Lambda
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)

    # When a failure is counted by its reason
    PowertoolsTelemetry().count("Failed", dimensions={"reason": "heic"})

    # Then one EMF document carries it with the service and reason dimensions
    (line,) = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    assert emf["Failed"] == [1.0]
    assert emf["reason"] == "heic"
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "reason"]]


def test_nothing_is_printed_when_metrics_are_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given local mode's setting
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    # When a failure is counted by its reason
    PowertoolsTelemetry().count("Failed", dimensions={"reason": "heic"})

    # Then stdout (local mode's console) stays clean
    assert capsys.readouterr().out == ""


def test_the_environment_is_a_dimension_of_every_metric_when_the_stack_sets_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambda_src.ingest.observability import metrics

    # Given metrics enabled and the environment the stack sets on the function
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    try:
        telemetry = PowertoolsTelemetry({"ENVIRONMENT": "staging"})
        # When a dimensioned and a plain metric are written
        telemetry.count("Failed", dimensions={"reason": "heic"})
        telemetry.count("Processed")
        metrics.flush_metrics()
    finally:
        metrics.clear_default_dimensions()
    # Then both carry environment, so environments sharing an account stay apart
    failed, processed = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert failed["environment"] == processed["environment"] == "staging"
    assert failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "environment", "reason"]]
    assert sorted(processed["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["environment", "service"]
