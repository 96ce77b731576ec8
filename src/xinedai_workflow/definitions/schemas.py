"""Answers of the definition endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class DeployAnswer(BaseModel):
    key: str
    version: int
    versions: dict[str, int]
    sha256: str
    warnings: list[dict[str, Any]]
    dry_run: bool = False
    tests: dict[str, Any] | None = None
    diff: dict[str, Any] = {}


class DefinitionItem(BaseModel):
    key: str
    version: int
    name: str
    sha256: str
    deployed_at: datetime
    deployed_by: str


class VersionDiff(BaseModel):
    """What a version changed against `against_version` (null for a key's first version)."""

    key: str
    version: int
    against_version: int | None
    elements: list[dict[str, Any]]
    files: list[dict[str, Any]]
