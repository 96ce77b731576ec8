"""The `limit` (1..200, never clamped) and `cursor` query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=200, description="Page size, 1..200 (default 50).")]
Cursor = Annotated[str | None, Query(max_length=500, description="Opaque cursor from `next_cursor`.")]
