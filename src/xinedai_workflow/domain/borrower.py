"""The borrower a case belongs to, as the contact policy counts contacts (`borrower.id`, or
`loan:<loan_id>` without one). Stored on every task row, so "one person per borrower at a time"
(`POST /tasks:next`) is an indexed lookup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 200


def borrower_key(variables: Mapping[str, Any] | None, loan_id: str) -> str:
    person = (variables or {}).get("borrower")
    raw = person.get("id") if isinstance(person, Mapping) else None
    key = str(raw) if raw not in (None, "") else f"loan:{loan_id}"
    return key[:MAX_LENGTH]
