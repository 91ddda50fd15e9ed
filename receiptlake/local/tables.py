"""Tables for local mode and tests, built from the synthesized storage stack so the
local copy can never drift from what CDK deploys."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TABLE_TYPE = "AWS::DynamoDB::Table"


REPO_ROOT = Path(__file__).resolve().parents[2]
# What the table definition depends on; a change to any of them invalidates the cache.
SOURCES = ("stacks/storage_stack.py", "stacks/config.py", "lambda_src/common/keys.py", "cdk.json")
CACHE = REPO_ROOT / ".build" / "receipts-table.json"


@functools.cache
def receipts_table_properties() -> dict[str, Any]:
    """The CloudFormation properties of the receipts table, from a dev synth of the storage
    stack (cached by the hash of its sources: a synth costs seconds)."""
    digest = hashlib.sha256(b"".join((REPO_ROOT / s).read_bytes() for s in SOURCES)).hexdigest()
    if CACHE.exists():
        cached = json.loads(CACHE.read_text())
        if cached.get("sources") == digest:
            return dict(cached["properties"])
    properties = _synthesize_table_properties()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps({"sources": digest, "properties": properties}, indent=1))
    return properties


def _synthesize_table_properties() -> dict[str, Any]:
    """Synthesized in a child process: the jsii kernel (a node process) then ends with it,
    instead of living on in local mode, where a Ctrl-C reaches node too and jsii's exit hook
    prints a BrokenPipeError traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "receiptlake.local.tables"],
        cwd=REPO_ROOT,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"synthesizing the storage stack for the table schema failed:\n{done.stderr}")
    properties: dict[str, Any] = json.loads(done.stdout)
    return properties


def _synthesize_in_this_process() -> dict[str, Any]:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from stacks.config import ENVIRONMENTS_KEY, load_config, read_cdk_json_context
    from stacks.storage_stack import StorageStack

    context = read_cdk_json_context()
    config = load_config(context[ENVIRONMENTS_KEY], "dev")
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk.App(context=context, outdir=outdir)
        stack = StorageStack(app, "storage", config=config)
        template = Template.from_stack(stack).to_json()
    tables = [r for r in template["Resources"].values() if r["Type"] == TABLE_TYPE]
    if len(tables) != 1:
        raise RuntimeError(f"expected one table in the storage stack, found {len(tables)}")
    properties: dict[str, Any] = json.loads(json.dumps(tables[0]["Properties"]))
    return properties


def create_table_request(properties: dict[str, Any], table_name: str) -> dict[str, Any]:
    """A DynamoDB CreateTable request with the key schema, attributes and indexes of ``properties``."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
    }
    indexes = [
        {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
        for g in properties.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    return request


def create_receipts_table(client: Any, table_name: str) -> None:
    """Create the receipts table (and its TTL) in whatever DynamoDB ``client`` talks to."""
    properties = receipts_table_properties()
    client.create_table(**create_table_request(properties, table_name))
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


if __name__ == "__main__":
    print(json.dumps(_synthesize_in_this_process()))
