"""What one `python -m bench` run measured: per backend a column, and line 1 (no database)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Column:
    """One backend's figures (None: not measured) and why a line could not run."""

    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None
    one: dict[str, float] = field(default_factory=dict)  # the one-task column (lines 2-4, post8, ...)
    path: dict[str, float] = field(default_factory=dict)  # GET /health, service and bare app, ms
    sql: dict[str, float | None] = field(default_factory=dict)  # statements per call


@dataclass
class Results:
    """Everything one `python -m bench` run measured (printed as a table, or as JSON for --compare)."""

    columns: dict[str, Column]
    line1: dict[str, float | None] = field(default_factory=dict)
    line1_one: dict[str, float | None] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "columns": {n: asdict(c) for n, c in self.columns.items()}})

    @classmethod
    def from_json(cls, text: str) -> Results:
        raw: dict[str, Any] = json.loads(text)
        columns = {name: Column(**column) for name, column in raw.pop("columns").items()}
        return cls(columns, **raw)
