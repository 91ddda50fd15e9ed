"""One synth of the whole app (every environment, nag included) shared by the infra tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from stacks.stage import ReceiptlakeStage


@dataclass
class SynthResult:
    stages: dict[str, ReceiptlakeStage]
    violations: list[dict[str, Any]]

    def stack(self, env: str, layer: str) -> Stack:
        stack: Stack = getattr(self.stages[env], layer)
        return stack

    def template(self, env: str, layer: str) -> Template:
        return Template.from_stack(self.stack(env, layer))

    def findings(self, layer: str) -> list[str]:
        """Unacknowledged nag findings in one layer's stack, in any environment."""
        return [
            f"{v['ruleName']} at {c['constructPath']}"
            for v in self.violations
            for c in v["violatingConstructs"]
            if c["constructPath"].split("/")[1:2] == [layer]
        ]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynthResult]:
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(context={"env": "all"}, outdir=str(outdir))
    stages = {child.node.id: child for child in app.node.children if isinstance(child, ReceiptlakeStage)}
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
    report_path = Path(outdir) / "validation-report.json"
    violations: list[dict[str, Any]] = []
    if report_path.exists():
        report = json.loads(report_path.read_text())
        violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    yield SynthResult(stages, violations)


def test_stack_names(synth: SynthResult) -> None:
    """Kept here so every layer's naming is checked once."""
    for env, stage in synth.stages.items():
        assert stage.storage.stack_name == f"receiptlake-{env}-storage"
        assert stage.hosting.stack_name == f"receiptlake-{env}-hosting"
        assert stage.etl.stack_name == f"receiptlake-{env}-etl"
        assert stage.training.stack_name == f"receiptlake-{env}-training"
        assert stage.monitoring.stack_name == f"receiptlake-{env}-monitoring"
        if stage.edge is not None:  # only where WAF is on; in us-east-1 like CloudFront's web ACL
            assert (stage.edge.stack_name, stage.edge.region) == (f"receiptlake-{env}-edge", "us-east-1")
