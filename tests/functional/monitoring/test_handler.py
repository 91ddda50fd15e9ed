"""The reconciliation Lambda handler on a scheduled event, wired through its environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambda_src.monitoring import handler as reconcile_handler
from tests.conftest import load_event
from tests.functional.ingest.conftest import RECEIPT_JPG, UPLOADS, World
from tests.functional.monitoring.conftest import Queues


@pytest.fixture
def wired(world: World, queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "TABLE_NAME": world.repository.table_name,
        "UPLOADS_BUCKET": UPLOADS,
        "INGEST_QUEUE_URL": queues.url,
        "STUCK_AFTER_MINUTES": "60",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "ENVIRONMENT": "dev",
    }.items():
        monkeypatch.setenv(name, value)
    reconcile_handler._wiring.cache_clear()
    # The run happens two hours from now: everything made in the test is old enough to count.
    monkeypatch.setattr(reconcile_handler, "clock", lambda: datetime.now(UTC) + timedelta(hours=2))
    yield
    reconcile_handler._wiring.cache_clear()
    reconcile_handler.metrics.clear_default_dimensions()


def test_a_scheduled_run_requeues_and_emits_its_figures(
    wired: None, world: World, queues: Queues, lambda_context: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given one uploaded receipt that never reached ingest, and one orphaned object
    world.upload(world.pending("user-1", "receipt-1"), RECEIPT_JPG)
    world.upload("uploads/user-1/orphan.jpg", RECEIPT_JPG)
    # When EventBridge's schedule invokes the function
    figures = reconcile_handler.handler(load_event("eventbridge_scheduled"), lambda_context)
    # Then it re-queued the one and counted the other
    assert figures["Requeued"] == 1 and figures["ObjectsWithoutRecord"] == 1
    assert len(queues.bodies()) == 1
    # And the figures went out as CloudWatch metrics (EMF) in the namespace the alarms read
    (emf,) = (json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "receiptlake"
    assert sorted(directive["Dimensions"][0]) == ["environment", "service"]
    assert (emf["service"], emf["environment"]) == ("reconcile", "dev")
    names = {m["Name"] for m in directive["Metrics"]}
    assert {"StuckReceipts", "ObjectsWithoutRecord", "RecordsWithoutObject", "ReceiptsChecked"} <= names
    assert emf["Requeued"] == [1.0]
