"""`receiptlake ops summary | reconcile | reprocess-stuck | redrive-dlq (--env NAME | --local)`:
the on-call's hands, against a deployed environment or the running local mode.

The same reconciliation code as the scheduled Lambda (lambda_src/monitoring); a deployed
environment's resources are read from the outputs of its monitoring stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from receiptlake.local.platform import DEFAULT_STATE_DIR

# When an environment's config cannot say (local mode): local OCR takes seconds.
LOCAL_STUCK_AFTER_MINUTES = 10


class OpsError(RuntimeError):
    """A problem the person can fix; the message says how."""


@dataclass(frozen=True)
class Target:
    """The resources one command works on, and clients to reach them."""

    label: str
    region: str
    table: str
    uploads_bucket: str
    queue_url: str
    dlq_url: str
    stuck_after_minutes: int
    session: Any
    endpoint: str | None = None

    def client(self, service: str) -> Any:
        from botocore.config import Config

        return self.session.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint,
            config=Config(retries={"mode": "standard", "max_attempts": 3}, s3={"addressing_style": "path"}),
        )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ops", help="on-call tools: health summary, reconciliation, DLQ redrive")
    actions = parser.add_subparsers(dest="ops_command", required=True, metavar="ACTION")
    for name, helptext, func in (
        ("summary", "queue depths, receipts by status, stuck and mismatched uploads", _summary),
        (
            "reconcile",
            "compare table and uploads; re-queue stuck receipts once (as the schedule does)",
            _reconcile,
        ),
        (
            "reprocess-stuck",
            "re-send the S3 event of every stuck receipt, also those re-queued before",
            _reprocess,
        ),
        ("redrive-dlq", "move ingest messages from the dead-letter queue back to the ingest queue", _redrive),
    ):
        action = actions.add_parser(name, help=helptext, description=helptext)
        where = action.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--env", metavar="NAME", help="a deployed environment from cdk.json (dev, staging, prod)"
        )
        where.add_argument("--local", action="store_true", help="the running `receiptlake local up`")
        action.add_argument("--profile", help="AWS profile for --env (default: the usual credential chain)")
        action.add_argument(
            "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="local mode's state dir"
        )
        action.add_argument("--json", action="store_true", help="print the result as JSON")
        if name in ("reconcile", "reprocess-stuck", "summary"):
            action.add_argument(
                "--stuck-after",
                type=int,
                metavar="MINUTES",
                help="PENDING longer than this is stuck (default: the environment's stuck_after_minutes)",
            )
        if name in ("reconcile", "reprocess-stuck", "redrive-dlq"):
            action.add_argument(
                "--dry-run", action="store_true", help="report what would be done, change nothing"
            )
        if name == "redrive-dlq":
            action.add_argument("--max", type=int, metavar="N", help="move at most N messages")
        action.set_defaults(func=lambda args, func=func: _run(args, func))


def _run(args: argparse.Namespace, func: Any) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        target = _local_target(args.state_dir) if args.local else _env_target(args.env, args.profile)
        result: dict[str, Any] = func(target, args)
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(
            f"error: AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}",
            file=sys.stderr,
        )
        return 1
    except BotoCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        _print(target, result)
    return 0


# ---- finding the target -----------------------------------------------------------------


def _local_target(state_dir: Path) -> Target:
    import boto3

    from receiptlake.local.provision import LocalNames
    from receiptlake.local.running import find_running, marker_path

    running = find_running(state_dir)
    if running is None:
        raise OpsError(
            f"local mode is not running (no live {marker_path(state_dir)}): start it with "
            "`receiptlake local up` (or `make demo`) in another terminal"
        )
    session = boto3.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        region_name=running.region,
    )
    names = LocalNames()
    probe = Target(
        "local", running.region, running.table, names.uploads_bucket, "", "", 0, session, running.endpoint
    )
    queue_urls = _queue_urls(probe, names.queue, names.dlq)
    return Target(
        label="local",
        region=running.region,
        table=running.table,
        uploads_bucket=names.uploads_bucket,
        queue_url=queue_urls[0],
        dlq_url=queue_urls[1],
        stuck_after_minutes=LOCAL_STUCK_AFTER_MINUTES,
        session=session,
        endpoint=running.endpoint,
    )


def _queue_urls(target: Target, *names: str) -> list[str]:
    from botocore.exceptions import EndpointConnectionError

    sqs = target.client("sqs")
    try:
        return [sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in names]
    except EndpointConnectionError as exc:
        raise OpsError(
            f"local mode does not answer at {target.endpoint}: is `receiptlake local up` still running?"
        ) from exc


def _env_target(name: str, profile: str | None) -> Target:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    from stacks.config import ENVIRONMENTS_KEY, ConfigError, load_config, read_cdk_json_context

    try:
        config = load_config(read_cdk_json_context()[ENVIRONMENTS_KEY], name)
    except ConfigError as exc:
        raise OpsError(str(exc).replace("with -c env=NAME", "with --env NAME")) from exc
    try:
        session = boto3.Session(profile_name=profile, region_name=config.region)
    except ProfileNotFound as exc:
        raise OpsError(f"{exc}: choose one from ~/.aws/config with --profile") from exc
    if session.get_credentials() is None:
        raise OpsError(
            f"no AWS credentials for environment '{name}': sign in (e.g. `aws sso login`), set "
            "AWS_PROFILE or pass --profile, then try again"
        )
    stack_name = config.stack_name("monitoring")
    target = Target(
        label=name,
        region=config.region,
        table="",
        uploads_bucket="",
        queue_url="",
        dlq_url="",
        stuck_after_minutes=config.monitoring.stuck_after_minutes,
        session=session,
    )
    try:
        if config.account:
            account = target.client("sts").get_caller_identity()["Account"]
            if account != config.account:
                raise OpsError(
                    f"these credentials are for account {account}, but environment '{name}' is in "
                    f"account {config.account}: use that account's profile"
                )
        stacks = target.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError as exc:
        raise OpsError(
            f"no AWS credentials for environment '{name}': set AWS_PROFILE or pass --profile"
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in str(error.get("Message")):
            raise OpsError(
                f"environment '{name}' is not deployed in {config.region} (no stack {stack_name}): "
                f"deploy it with `make deploy ENV={name}`"
            ) from exc
        if error.get("Code") in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"):
            raise OpsError(
                f"the AWS credentials have expired or are invalid ({error.get('Code')}): sign in again"
            ) from exc
        raise
    except BotoCoreError as exc:
        raise OpsError(f"cannot reach AWS in {config.region}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    wanted = ("TableName", "UploadsBucketName", "IngestQueueUrl", "IngestDlqUrl")
    missing = [k for k in wanted if k not in outputs]
    if missing:
        raise OpsError(
            f"stack {stack_name} has no output {', '.join(missing)}: deploy the current version first"
        )
    return Target(
        label=name,
        region=config.region,
        table=outputs["TableName"],
        uploads_bucket=outputs["UploadsBucketName"],
        queue_url=outputs["IngestQueueUrl"],
        dlq_url=outputs["IngestDlqUrl"],
        stuck_after_minutes=config.monitoring.stuck_after_minutes,
        session=session,
    )


# ---- the actions ------------------------------------------------------------------------


def _inventory(target: Target) -> Any:
    from lambda_src.monitoring.adapters import AwsInventory

    return AwsInventory(target.table, target.uploads_bucket, target.client("dynamodb"), target.client("s3"))


def _queue(target: Target) -> Any:
    from lambda_src.monitoring.adapters import SqsQueue

    return SqsQueue(target.client("sqs"), target.queue_url, target.region)


def _stuck_after(target: Target, args: argparse.Namespace) -> timedelta:
    minutes = target.stuck_after_minutes if args.stuck_after is None else args.stuck_after
    if minutes < 0:
        raise OpsError("--stuck-after cannot be negative")
    return timedelta(minutes=minutes)


def _report(report: Any, target: Target, stuck_after: timedelta) -> dict[str, Any]:
    return {
        "figures": report.figures(),
        "stuck_after_minutes": int(stuck_after.total_seconds() // 60),
        "requeued": report.requeued,
        "stuck": report.stuck,
        "abandoned": report.abandoned,
        "objects_without_record": report.objects_without_record,
        "records_without_object": report.records_without_object,
        "dry_run": report.dry_run,
    }


def _reconcile(target: Target, args: argparse.Namespace, *, force: bool = False) -> dict[str, Any]:
    """One reconciliation pass; ``force`` re-sends stuck receipts even if sent once already."""
    from lambda_src.monitoring.logic import reconcile

    stuck_after = _stuck_after(target, args)
    report = reconcile(
        _inventory(target),
        _queue(target),
        None,
        now=datetime.now(UTC),
        stuck_after=stuck_after,
        requeue=not args.dry_run,
        force_requeue=force,
    )
    action = "reprocess-stuck" if force else "reconcile"
    return {"action": action, **_report(report, target, stuck_after)}


def _reprocess(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    return _reconcile(target, args, force=True)


def _redrive(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    from lambda_src.monitoring.adapters import queue_depth, redrive

    sqs = target.client("sqs")
    if args.max is not None and args.max < 1:
        raise OpsError("--max must be at least 1")
    before = queue_depth(sqs, target.dlq_url)
    moved = (
        0
        if args.dry_run
        else redrive(sqs, source_url=target.dlq_url, target_url=target.queue_url, limit=args.max)
    )
    return {
        "action": "redrive-dlq",
        "dlq_before": before["visible"],
        "moved": moved,
        "dlq_after": queue_depth(sqs, target.dlq_url)["visible"],
        "dry_run": args.dry_run,
    }


def _summary(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    from lambda_src.monitoring.adapters import queue_depth
    from lambda_src.monitoring.logic import find

    stuck_after = _stuck_after(target, args)
    inventory = _inventory(target)
    rows = list(inventory.receipts())
    findings = find(rows, inventory.objects(), now=datetime.now(UTC), stuck_after=stuck_after)
    sqs = target.client("sqs")
    return {
        "action": "summary",
        "ingest_queue": queue_depth(sqs, target.queue_url),
        "dlq": queue_depth(sqs, target.dlq_url),
        "receipts_by_status": dict(sorted(Counter(r.status for r in rows).items())),
        "stuck_after_minutes": int(stuck_after.total_seconds() // 60),
        "pending_too_long": len(findings.to_requeue) + len(findings.stuck),
        "stuck_after_requeue": len(findings.stuck),
        "abandoned_uploads": len(findings.abandoned),
        "objects_without_record": len(findings.objects_without_record),
        "records_without_object": len(findings.records_without_object),
    }


# ---- output -----------------------------------------------------------------------------


def _print(target: Target, result: dict[str, Any]) -> None:
    where = f"receiptlake {target.label} ({target.region})"
    action = result["action"]
    if action == "summary":
        q, d = result["ingest_queue"], result["dlq"]
        statuses = ", ".join(f"{k} {v}" for k, v in result["receipts_by_status"].items()) or "none"
        print(f"{where}")
        print(f"  ingest queue        {q['visible']} waiting, {q['in_flight']} in flight")
        print(f"  dead-letter queue   {d['visible']} waiting")
        print(f"  receipts            {statuses}")
        print(
            f"  PENDING > {result['stuck_after_minutes']} min    {result['pending_too_long']} "
            f"({result['stuck_after_requeue']} still stuck after a re-queue)"
        )
        print(f"  abandoned uploads   {result['abandoned_uploads']} (slot issued, no file ever arrived)")
        print(f"  objects w/o record  {result['objects_without_record']}")
        print(f"  records w/o object  {result['records_without_object']}")
        return
    if action == "redrive-dlq":
        verb = "would move" if result["dry_run"] else "moved"
        print(
            f"{where}: {verb} {result['dlq_before'] if result['dry_run'] else result['moved']} message(s) "
            f"from the DLQ to the ingest queue; {result['dlq_after']} left in the DLQ"
        )
        return
    figures = result["figures"]
    verb = "would re-queue" if result["dry_run"] else "re-queued"
    print(
        f"{where}: checked {figures['ReceiptsChecked']} receipts and {figures['ObjectsChecked']} uploads "
        f"(stuck after {result['stuck_after_minutes']} min)"
    )
    for label, key in (
        (verb, "requeued"),
        ("stuck after a re-queue", "stuck"),
        ("abandoned uploads", "abandoned"),
        ("objects without record", "objects_without_record"),
        ("records without object", "records_without_object"),
    ):
        items = result[key]
        print(f"  {label}: {len(items)}")
        for item in items[:20]:
            print(f"    {item}")
        if len(items) > 20:
            print(f"    … and {len(items) - 20} more (--json lists all)")
