"""A function's configuration read once from its environment variables (the stack sets them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict


class EnvironmentSettings(BaseModel):
    """Fields named like their variables, lower-cased (``TABLE_NAME`` → ``table_name``);
    an empty variable counts as unset, so the field's default applies."""

    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        values = {
            name: environ[name.upper()]
            for name in cls.model_fields
            if environ.get(name.upper()) not in (None, "")
        }
        return cls.model_validate(values)
