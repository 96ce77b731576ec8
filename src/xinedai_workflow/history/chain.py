"""Hash chaining of history entries: each entry's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    case_id: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    element_id: str | None,
    data: Any,
    definition_version: int,
    prev_hash: str,
) -> str:
    """sha256 over the canonical JSON of an entry's fields."""
    body = {
        "case_id": case_id,
        "seq": seq,
        "at": canonical_time(at),
        "actor": actor,
        "action": action,
        "element_id": element_id,
        "data": data,
        "definition_version": definition_version,
        "prev_hash": prev_hash,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
