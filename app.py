#!/usr/bin/env python3
"""The CDK app: one Stage per environment chosen with ``-c env=NAME`` (default dev,
``-c env=all`` for every environment in cdk.json)."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from stacks.config import (
    ENVIRONMENTS_KEY,
    ConfigError,
    environment_names,
    load_config,
    read_cdk_json_context,
)
from stacks.nag import add_nag_plugins
from stacks.stage import ReceiptlakeStage


def build_app(context: dict[str, object] | None = None, outdir: str | None = None) -> cdk.App:
    """The app with its stages. ``context`` overrides cdk.json (tests pass env here)."""
    if "CDK_CONTEXT_JSON" in os.environ:
        base: dict[str, object] = {}  # the CDK CLI already passed cdk.json's context in
    else:
        base = read_cdk_json_context()  # plain `python app.py`: apply cdk.json ourselves
    app = cdk.App(
        context={**base, **(context or {})},
        outdir=outdir or os.environ.get("CDK_OUTDIR", "cdk.out"),
    )
    environments = app.node.try_get_context(ENVIRONMENTS_KEY)
    selector = app.node.try_get_context("env") or os.environ.get("RECEIPTLAKE_ENV")
    for name in environment_names(environments, selector):
        config = load_config(environments, name)
        alarm_email = app.node.try_get_context("alarm_email")
        if alarm_email:
            config = config.model_copy(update={"alarm_email": alarm_email})
        ReceiptlakeStage(app, name, config=config)
    add_nag_plugins(app)
    return app


def main() -> int:
    try:
        app = build_app()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
