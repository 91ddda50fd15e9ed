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
