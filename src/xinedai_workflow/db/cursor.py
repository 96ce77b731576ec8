"""Opaque keyset cursors for paged lists."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import Invalid


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, length: int) -> list[Any] | None:
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as err:
        raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}]) from err
    if not isinstance(values, list) or len(values) != length:
        raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}])
    return values
