"""The monitoring stack: every alarm reaches the topic and names a runbook section that
exists; every metric it names in a custom namespace is one the code emits (read from the
source, so renaming a metric in the code fails here); nag-clean; thresholds from config."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Match, Template
from aws_cdk.aws_events import Schedule

from glue_scripts import lake_schema
from ml import metrics_names
from stacks.config import REPO_ROOT, EnvConfig
from stacks.monitoring_stack import APP_NAMESPACE, ETL_NAMESPACE, RUNBOOK, MonitoringStack
from stacks.monitoring_training import TRAINING_NAMESPACE
from tests.infra.conftest import SynthResult

pytestmark = pytest.mark.infra
ENVS = ("dev", "staging", "prod")
RUNBOOK_LINK = re.compile(r"Runbook: (?P<path>\S+)#(?P<anchor>[a-z0-9-]+)$")
# Functions through which the Lambda code emits metrics (lambda_src/*/observability.py).
EMITTERS = {"count", "milliseconds", "add_metric"}


# ---- what the code emits ------------------------------------------------------------------


def _string_constants(node: ast.AST) -> Iterator[str]:
    # `"TextractThrottles" if code in THROTTLES else "TextractErrors"` names two metrics.
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value


def emitted_app_metrics(root: Path = REPO_ROOT / "lambda_src") -> set[str]:
    """Metric names passed as literals to ``count(``/``milliseconds(``/``add_metric(``."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called not in EMITTERS:
                continue
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "name")]
            for arg in args:
                names.update(n for n in _string_constants(arg) if re.fullmatch(r"[A-Z][A-Za-z0-9]+", n))
    return names


def emitted_etl_metrics(root: Path = REPO_ROOT / "glue_scripts") -> set[str]:
    """lake_schema's METRIC_* constants that the job's code passes to ``Metric(``."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Metric" and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Attribute) and first.attr.startswith("METRIC_"):
                names.add(getattr(lake_schema, first.attr))
    return names


def emitted_training_metrics() -> set[str]:
    """ml/metrics_names.py: the one list of names the trainer emits with and the stacks read
    (the user data's own RunSucceeded=0 is checked in test_training_stack.py)."""
    return set(metrics_names.ALL_METRICS)


def emitted() -> dict[str, set[str]]:
    return {
        APP_NAMESPACE: emitted_app_metrics(),
        ETL_NAMESPACE: emitted_etl_metrics(),
        TRAINING_NAMESPACE: emitted_training_metrics(),
    }


# ---- what the template names --------------------------------------------------------------


def _flatten(value: Any) -> str:
    """A CloudFormation string value with every token replaced by a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(_flatten(p) for p in parts)
    return "TOKEN"


INSIGHTS = re.compile(r'SELECT \w+\((?P<name>\w+)\) FROM SCHEMA\("(?P<ns>[^"]+)"')
SEARCH = re.compile(r"SEARCH\('\{(?P<ns>[^,}]+)[^}]*\} MetricName=\"(?P<name>\w+)\"")


def _expression_metrics(expression: str) -> Iterator[tuple[str, str]]:
    for pattern in (INSIGHTS, SEARCH):
        for match in pattern.finditer(expression):
            yield match["ns"], match["name"]


def named_metrics(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, metric name, where) for every metric an alarm or a widget names."""
    found: list[tuple[str, str, str]] = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            if "MetricName" in props:
                found.append((props["Namespace"], props["MetricName"], logical_id))
            for query in props.get("Metrics", []):
                if "MetricStat" in query:
                    metric = query["MetricStat"]["Metric"]
                    found.append((metric["Namespace"], metric["MetricName"], logical_id))
                for ns, name in _expression_metrics(query.get("Expression", "")):
                    found.append((ns, name, logical_id))
        elif resource["Type"] == "AWS::CloudWatch::Dashboard":
            body = json.loads(_flatten(props["DashboardBody"]))
            for widget in body["widgets"]:
                for line in widget.get("properties", {}).get("metrics", []):
                    where = f"{logical_id}: {widget['properties'].get('title')}"
                    if isinstance(line[0], dict):
                        for ns, name in _expression_metrics(line[0].get("expression", "")):
                            found.append((ns, name, where))
                    elif line[0] != "...":
                        found.append((line[0], line[1], where))
    return found


def unknown_metrics(template: dict[str, Any], known: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{ns}/{name} ({where})"
        for ns, name, where in named_metrics(template)
        if ns in known and name not in known[ns]
    )


# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stacks(synth: SynthResult) -> dict[str, MonitoringStack]:
    return {env: synth.stack(env, "monitoring") for env in ENVS}  # type: ignore[misc]


@pytest.fixture(scope="module")
def templates(stacks: dict[str, MonitoringStack]) -> dict[str, dict[str, Any]]:
    return {env: dict(Template.from_stack(stack).to_json()) for env, stack in stacks.items()}


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == kind}


def _github_anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def runbook_anchors() -> set[str]:
    text = (REPO_ROOT / RUNBOOK).read_text()
    return {_github_anchor(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


# ---- tests --------------------------------------------------------------------------------


def test_nag_has_no_unacknowledged_findings_in_monitoring(synth: SynthResult) -> None:
    assert synth.findings("monitoring") == []


def test_every_alarm_notifies_the_topic_directly_or_through_a_composite(templates: dict[str, Any]) -> None:
    for env, template in templates.items():
        topics = list(_of_type(template, "AWS::SNS::Topic"))
        assert len(topics) == 1, env
        topic = {"Ref": topics[0]}
        alarms = _of_type(template, "AWS::CloudWatch::Alarm")
        composites = _of_type(template, "AWS::CloudWatch::CompositeAlarm")
        assert len(alarms) >= 15 and composites, env
        for name, props in composites.items():
            assert props.get("AlarmActions") == [topic], f"{env}: composite {name} notifies nobody"
        rules = " ".join(json.dumps(props["AlarmRule"]) for props in composites.values())
        for name, props in alarms.items():
            if props.get("AlarmActions"):
                assert props["AlarmActions"] == [topic] and props["OKActions"] == [topic], f"{env}: {name}"
            else:
                # An input of a composite notifies through it (and only through it).
                assert name in rules, f"{env}: alarm {name} has no action and feeds no composite"


def test_every_alarm_description_names_a_runbook_section_that_exists(templates: dict[str, Any]) -> None:
    anchors = runbook_anchors()
    for env, template in templates.items():
        named = {
            **_of_type(template, "AWS::CloudWatch::Alarm"),
            **_of_type(template, "AWS::CloudWatch::CompositeAlarm"),
        }
        for name, props in named.items():
            match = RUNBOOK_LINK.search(props["AlarmDescription"])
            assert match, f"{env}: {name} names no runbook section"
            assert match["path"] == RUNBOOK
            assert match["anchor"] in anchors, f"{env}: {name} -> #{match['anchor']} is not in {RUNBOOK}"
            # The section is named after the alarm, so the page tells which section to open.
            assert _flatten(props.get("AlarmName") or props["AlarmName"]).endswith(match["anchor"])


def test_runbook_links_between_sections_resolve() -> None:
    anchors = runbook_anchors()
    links = re.findall(r"\]\(#([a-z0-9-]+)\)", (REPO_ROOT / RUNBOOK).read_text())
    assert links and sorted(set(links) - anchors) == []


def test_the_code_emits_the_metrics_the_scanner_expects() -> None:
    """The scanner itself: it must see the metrics ingest and reconcile emit today."""
    known = emitted_app_metrics()
    assert {
        "Processed",
        "NeedsReview",
        "Failed",
        "TextractThrottles",
        "TextractErrors",
        "UploadToStoredLatency",
    } <= known
    assert {"StuckReceipts", "ObjectsWithoutRecord", "RecordsWithoutObject", "ReceiptsChecked"} <= known
    assert lake_schema.METRICS_NAMESPACE == ETL_NAMESPACE
    assert metrics_names.NAMESPACE == TRAINING_NAMESPACE == "receiptlake/training"
    assert {
        "RunSucceeded",
        "DurationSeconds",
        "Resumed",
        "CategorizerMacroF1",
        "ForecastMaeRatio",
        "Promoted",
    } == (emitted_training_metrics())
    assert {lake_schema.METRIC_JOB_SUCCEEDED, lake_schema.METRIC_QUALITY_VIOLATIONS} <= emitted_etl_metrics()


def test_every_custom_metric_named_is_emitted_by_the_code(templates: dict[str, Any]) -> None:
    known = emitted()
    for env, template in templates.items():
        custom = [m for m in named_metrics(template) if m[0] in known]
        # Guard against a parser that silently finds nothing.
        assert len({(ns, name) for ns, name, _ in custom}) >= 20, env
        assert {ns for ns, _, _ in custom} == {APP_NAMESPACE, ETL_NAMESPACE, TRAINING_NAMESPACE}
        assert unknown_metrics(template, known) == [], env


def test_a_renamed_metric_is_caught(templates: dict[str, Any]) -> None:
    known = emitted()
    renamed = {**known, APP_NAMESPACE: (known[APP_NAMESPACE] - {"UploadToStoredLatency"}) | {"UploadLatency"}}
    problems = unknown_metrics(templates["dev"], renamed)
    assert problems and all("UploadToStoredLatency" in p for p in problems)


def test_alarm_topic_is_encrypted_with_a_customer_key_and_subscribes_no_one_without_an_email(
    templates: dict[str, Any],
) -> None:
    template = Template.from_json(templates["prod"])
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("MonitoringKey"), "Arn"]}},
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.resource_count_is("AWS::SNS::Subscription", 0)  # cdk.json sets no alarm_email


def test_alarm_email_subscribes_when_configured() -> None:
    from app import build_app

    app = build_app(context={"env": "dev", "alarm_email": "on-call@example.com"}, outdir=None)
    stage = next(c for c in app.node.children if c.node.id == "dev")
    template = Template.from_stack(stage.monitoring)  # type: ignore[attr-defined]
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "on-call@example.com"}
    )


def _alarm(template: dict[str, Any], env: str, slug: str) -> dict[str, Any]:
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    return next(p for p in alarms.values() if p["AlarmName"] == f"receiptlake-{env}-{slug}")


def test_thresholds_come_from_each_environments_config(
    stacks: dict[str, MonitoringStack], templates: dict[str, Any]
) -> None:
    seen = set()
    for env, template in templates.items():
        t = stacks[env].config.monitoring
        assert _alarm(template, env, "ingest-dlq-not-empty")["Threshold"] == t.dlq_messages
        assert _alarm(template, env, "ingest-errors")["Threshold"] == t.ingest_error_rate_percent
        assert _alarm(template, env, "api-slow")["Threshold"] == t.api_p99_latency_ms
        assert _alarm(template, env, "ingest-slow")["Threshold"] == t.upload_to_stored_p99_seconds * 1000
        api_5xx = _alarm(template, env, "api-5xx")
        assert api_5xx["Threshold"] == t.api_5xx_rate_percent
        assert any(f"requests >= {t.api_min_requests}" in q.get("Expression", "") for q in api_5xx["Metrics"])
        assert _alarm(template, env, "ingest-errors")["EvaluationPeriods"] == t.evaluation_periods
        seen.add((t.ingest_error_rate_percent, t.api_5xx_rate_percent))
    assert len(seen) > 1  # the environments differ, so the stack does read them


def test_composite_pages_on_backlog_with_errors_or_throttles(templates: dict[str, Any]) -> None:
    composites = _of_type(templates["prod"], "AWS::CloudWatch::CompositeAlarm")
    (props,) = [p for p in composites.values() if p["AlarmName"] == "receiptlake-prod-ingest-degraded"]
    rule = _flatten(props["AlarmRule"])
    assert rule.startswith("(ALARM(") and " AND (ALARM(" in rule and " OR ALARM(" in rule


def test_reconciliation_runs_on_the_configured_schedule(
    stacks: dict[str, MonitoringStack], templates: dict[str, Any]
) -> None:
    for env, template in templates.items():
        config: EnvConfig = stacks[env].config
        minutes = config.monitoring.reconcile_every_minutes
        Template.from_json(template).has_resource_properties(
            "AWS::Events::Rule",
            {
                "ScheduleExpression": Schedule.rate(Duration.minutes(minutes)).expression_string,
                "State": "ENABLED",
            },
        )
        Template.from_json(template).has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Handler": "lambda_src.monitoring.handler.handler",
                "Runtime": "python3.12",
                "Architectures": ["arm64"],
                "ReservedConcurrentExecutions": 1,
                "TracingConfig": {"Mode": "Active"},
                "DeadLetterConfig": Match.any_value(),
                "Environment": {
                    "Variables": Match.object_like(
                        {"STUCK_AFTER_MINUTES": str(config.monitoring.stuck_after_minutes)}
                    )
                },
            },
        )
        # The not-reporting alarm waits two schedule periods before it fires.
        assert _alarm(template, env, "reconcile-not-reporting")["Period"] == 2 * minutes * 60


def test_reconciliation_role_is_least_privilege(templates: dict[str, Any]) -> None:
    policies = _of_type(templates["prod"], "AWS::IAM::Policy")
    actions = {
        action
        for policy in policies.values()
        for statement in policy["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {"dynamodb:Scan", "dynamodb:UpdateItem", "s3:ListBucket", "sqs:SendMessage"} <= actions
    assert not {
        a
        for a in actions
        if a.endswith(":*") or a in {"dynamodb:DeleteItem", "s3:DeleteObject", "s3:PutObject"}
    }


def test_dashboard_shows_each_layers_golden_signals(templates: dict[str, Any]) -> None:
    (props,) = _of_type(templates["prod"], "AWS::CloudWatch::Dashboard").values()
    body = _flatten(props["DashboardBody"])
    for needle in (
        '"receiptlake","Processed"',
        "UploadToStoredLatency",
        "TextractLatency",
        'MetricName=\\"Failed\\"',
        "NEEDS_REVIEW",
        "ApproximateAgeOfOldestMessage",
        '"AWS/ApiGateway","5xx"',
        '"AWS/ApiGateway","4xx"',
        '"AWS/Lambda","ConcurrentExecutions"',
        "ReadThrottleEvents",
        '"AWS/CloudFront","5xxErrorRate"',
        '"region":"us-east-1"',
        lake_schema.METRIC_ROWS_WRITTEN,
        *(f'"{TRAINING_NAMESPACE}","{name}"' for name in metrics_names.ALL_METRICS),
        '"AWS/AutoScaling","GroupInServiceInstances"',
    ):
        assert needle in body, needle
    assert "has not landed yet" not in body


def test_training_alarms_page_on_a_failed_run_and_on_no_success_outside_a_run(
    synth: SynthResult, templates: dict[str, Any]
) -> None:
    for env, template in templates.items():
        config: EnvConfig = synth.stack(env, "monitoring").config  # type: ignore[attr-defined]
        failed = _alarm(template, env, "training-run-failed")
        assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == (
            TRAINING_NAMESPACE,
            metrics_names.RUN_SUCCEEDED,
            "Minimum",
        )
        assert failed["Dimensions"] == [{"Name": metrics_names.DIMENSION_ENVIRONMENT, "Value": env}]
        assert (failed["ComparisonOperator"], failed["Threshold"]) == ("LessThanThreshold", 1)
        assert failed["TreatMissingData"] == "notBreaching"  # no run that day is no failure
        no_success = _alarm(template, env, "training-no-success")
        assert no_success["TreatMissingData"] == "breaching"
        assert (
            no_success["Period"] * no_success["EvaluationPeriods"] == config.training_stale_after_days * 86400
        )
        assert no_success["Period"] * no_success["EvaluationPeriods"] <= 7 * 86400  # CloudWatch's limit
        in_progress = _alarm(template, env, "training-in-progress")
        assert in_progress["Dimensions"] == [
            {"Name": "AutoScalingGroupName", "Value": synth.stack(env, "training").group_name}  # type: ignore[attr-defined]
        ]
        composites = _of_type(template, "AWS::CloudWatch::CompositeAlarm")
        (stale,) = [p for p in composites.values() if p["AlarmName"] == f"receiptlake-{env}-training-stale"]
        rule = _flatten(stale["AlarmRule"])
        assert rule.startswith("(ALARM(") and "NOT (ALARM(" in rule


def test_a_failed_etl_run_reaches_the_topic_even_without_its_metric(
    synth: SynthResult, templates: dict[str, Any]
) -> None:
    for env, template in templates.items():
        job_name = synth.stack(env, "etl").job_name  # type: ignore[attr-defined]
        rules = [
            props
            for props in _of_type(template, "AWS::Events::Rule").values()
            if props.get("EventPattern", {}).get("source") == ["aws.glue"]
        ]
        (rule,) = rules
        assert rule["EventPattern"]["detail"] == {
            "jobName": [job_name],
            "state": ["FAILED", "TIMEOUT", "ERROR"],
        }
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": next(iter(_of_type(template, "AWS::SNS::Topic")))}
        assert f"{RUNBOOK}#etl-job-failed" in target["InputTransformer"]["InputTemplate"]
        # The topic's key lets EventBridge encrypt what it publishes.
        (key,) = (
            p
            for p in _of_type(template, "AWS::KMS::Key").values()
            if "alarm topic" in p.get("Description", "")
        )
        principals = [s.get("Principal", {}).get("Service") for s in key["KeyPolicy"]["Statement"]]
        assert "events.amazonaws.com" in principals and "cloudwatch.amazonaws.com" in principals


def test_app_metrics_are_read_for_this_environment_only(
    synth: SynthResult, templates: dict[str, Any]
) -> None:
    """Environments may share an account: every app metric is selected by environment,
    which the functions are told through ENVIRONMENT."""
    for env, template in templates.items():
        body = _flatten(
            next(iter(_of_type(template, "AWS::CloudWatch::Dashboard").values()))["DashboardBody"]
        )
        lines = re.findall(r'\["receiptlake","\w+",[^\]]*\]', body)
        assert lines and all(f'"environment","{env}"' in line for line in lines), env
        for props in _of_type(template, "AWS::CloudWatch::Alarm").values():
            for query in props.get("Metrics", []):
                expression = query.get("Expression", "")
                if f'SCHEMA("{APP_NAMESPACE}"' in expression:
                    assert f"environment = '{env}'" in expression
            if props.get("Namespace") == APP_NAMESPACE:
                assert {"Name": "environment", "Value": env} in props["Dimensions"]
        functions = _of_type(template, "AWS::Lambda::Function")
        assert any(f["Environment"]["Variables"].get("ENVIRONMENT") == env for f in functions.values())
        Template.from_stack(synth.stack(env, "ingest")).has_resource_properties(
            "AWS::Lambda::Function",
            {"Environment": {"Variables": Match.object_like({"ENVIRONMENT": env})}},
        )
