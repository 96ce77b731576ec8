"""The export adapter: the day's credit-bureau records as one file (the PBOC interface itself is
proprietary and sits behind this adapter).

Layout (one record per line / row, in the order made; money as decimal strings, dates ISO):

| field | meaning |
|---|---|
| `record_type` | `report` (a default reported) or `correction` (a change to a reported record) |
| `report_id` | the report's id (a correction names the report it changes) |
| `loan_id`, `borrower_id` | the loan and the borrower's customer id |
| `default_date` | the due date missed |
| `days_past_due` | DPD when reported |
| `overdue_amount` | what was owed when reported (CNY) |
| `notice_sent_at` | when the notice of art. 15 went out |
| `reported_at` | when the record was made |
| `default_ended_on`, `retain_until` | the default's end and 5 years after it (art. 16), when known |
| `field`, `old_value`, `new_value`, `reason` | corrections only |

`credit-reports-YYYY-MM-DD.jsonl` (JSON Lines, the default) or `.csv` (UTF-8, header row), written
atomically (a temporary file renamed), so a reader never sees half a file; rewriting a day gives
the same file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

FIELDS = (
    "record_type",
    "report_id",
    "loan_id",
    "borrower_id",
    "default_date",
    "days_past_due",
    "overdue_amount",
    "notice_sent_at",
    "reported_at",
    "default_ended_on",
    "retain_until",
    "field",
    "old_value",
    "new_value",
    "reason",
)


class BureauExporter(Protocol):
    """Where a day's records go."""

    def export(self, day: date, records: Sequence[dict[str, Any]]) -> str: ...


class DailyFileExporter:
    """The default adapter: one file per day in a directory."""

    def __init__(self, directory: Path, fmt: str = "jsonl") -> None:
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown bureau export format {fmt!r} (jsonl or csv)")
        self.directory = directory
        self.fmt = fmt

    def path(self, day: date) -> Path:
        return self.directory / f"credit-reports-{day.isoformat()}.{self.fmt}"

    def export(self, day: date, records: Sequence[dict[str, Any]]) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        text = _jsonl(records) if self.fmt == "jsonl" else _csv(records)
        target = self.path(day)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".credit-reports-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(target)


def _row(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record.get(key) for key in FIELDS}


def _jsonl(records: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(_row(r), ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def _csv(records: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {
                k: "" if v is None else (json.dumps(v) if isinstance(v, dict | list) else v)
                for k, v in _row(record).items()
            }
        )
    return out.getvalue()
