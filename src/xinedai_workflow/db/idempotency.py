"""Idempotency keys (event_id, message_id, request_id): the first answer is replayed, a different
body under the same key is a conflict. The key row is written in the same transaction as the effect."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict
from .models import IdempotencyKey


@dataclass(frozen=True)
class Answer:
    """A status code and body, as first given."""

    status: int
    body: dict[str, Any]


def request_hash(body: Any) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(session: Session, scope: str, key: str, body: Any, replay_status: int) -> Answer | None:
    """The stored answer for `key` (with `replay_status`), None if new; Conflict if the body differs."""
    # columns, not the ORM object: this runs for every event, and nearly always finds nothing
    row = session.execute(
        select(IdempotencyKey.request_hash, IdempotencyKey.response).where(
            IdempotencyKey.scope == scope, IdempotencyKey.key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != request_hash(body):
        raise Conflict(
            f"{scope} key {key!r} was already used with a different body", code="idempotency_key_reused"
        )
    return Answer(replay_status, dict(row.response))


def remember(
    session: Session,
    scope: str,
    key: str,
    body: Any,
    answer: Answer,
    case_id: uuid.UUID | None,
    now: datetime,
) -> None:
    session.add(
        IdempotencyKey(
            scope=scope,
            key=key,
            request_hash=request_hash(body),
            status_code=answer.status,
            response=answer.body,
            case_id=case_id,
            created_at=now,
        )
    )
