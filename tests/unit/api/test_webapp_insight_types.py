"""The web app's insight types (webapp/src/api/types.ts) match the API's schemas.

Field names, which fields may be null, and the allowed kinds are read from the TypeScript
interfaces and compared with the pydantic models behind GET /api/insights.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from lambda_src.api.schemas import Anomaly, Driver, Forecast, InsightSet, InsightsResponse

REPO_ROOT = Path(__file__).resolve().parents[3]
TYPES_TS = REPO_ROOT / "webapp" / "src" / "api" / "types.ts"
_FIELD = re.compile(r"^\s*(\w+)(\?)?:\s*(.+?)\s*$")

# TypeScript interface name -> the API model it mirrors
MIRRORS: dict[str, type[BaseModel]] = {
    "Forecast": Forecast,
    "Driver": Driver,
    "Anomaly": Anomaly,
    "InsightSet": InsightSet,
    "Insights": InsightsResponse,
}


def _interface(source: str, name: str) -> dict[str, str]:
    """``{field: TypeScript type}`` of ``export interface NAME { ... }`` (one field a line)."""
    match = re.search(rf"^export interface {name} \{{\n(.*?)^\}}", source, re.MULTILINE | re.DOTALL)
    assert match, f"no `export interface {name}` in {TYPES_TS.name}"
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if not line.strip() or line.strip().startswith(("/*", "*", "//")):
            continue
        field = _FIELD.match(line)
        assert field, f"{name}: unexpected line {line!r}"
        fields[field.group(1)] = field.group(3)
    return fields


def _type_alias(source: str, name: str) -> str:
    match = re.search(rf"^export type {name} = (.+)$", source, re.MULTILINE)
    assert match, f"no `export type {name}` in {TYPES_TS.name}"
    return match.group(1)


def _nullable(annotation: object) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        annotation
    )


def _literals(annotation: object) -> set[str]:
    return {str(a) for a in typing.get_args(annotation)}


def _ts_literals(ts_type: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", ts_type))


@pytest.mark.parametrize("ts_name", sorted(MIRRORS))
def test_same_fields_and_nullability(ts_name: str) -> None:
    # Given the TypeScript interface and the API model it mirrors
    ts = _interface(TYPES_TS.read_text(encoding="utf-8"), ts_name)
    model = MIRRORS[ts_name]
    # Then they have the same fields, and a field may be null in one exactly when in the other
    assert set(ts) == set(model.model_fields)
    for name, info in model.model_fields.items():
        assert ("| null" in ts[name]) == _nullable(info.annotation), f"{ts_name}.{name}: {ts[name]}"


def test_same_kinds() -> None:
    source = TYPES_TS.read_text(encoding="utf-8")
    assert _ts_literals(_interface(source, "Driver")["kind"]) == _literals(
        Driver.model_fields["kind"].annotation
    )
    assert _ts_literals(_type_alias(source, "AnomalyKind")) == _literals(
        Anomaly.model_fields["kind"].annotation
    )
