"""Answers of the definition endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from .service import DeployResult


class DeployAnswer(BaseModel):
    key: str
    version: int
    versions: dict[str, int]
    sha256: str
    warnings: list[dict[str, Any]]
    dry_run: bool = False
    tests: dict[str, Any] | None = None
    diff: dict[str, Any] = {}

    @classmethod
    def of(cls, result: DeployResult) -> DeployAnswer:
        """The answer for what a deploy did."""
        return cls(
            key=result.key,
            version=result.version,
            versions=result.versions,
            sha256=result.sha256,
            warnings=result.warnings,
            dry_run=result.dry_run,
            tests=result.tests,
            diff=result.diff,
        )


class DefinitionItem(BaseModel):
    key: str
    version: int
    name: str
    sha256: str
    deployed_at: datetime
    deployed_by: str
    approved_by: str | None = None  # the second compliance user, for versions deployed from a studio draft


class VersionDiff(BaseModel):
    """What a version changed against `against_version` (null for a key's first version)."""

    key: str
    version: int
    against_version: int | None
    elements: list[dict[str, Any]]
    files: list[dict[str, Any]]
