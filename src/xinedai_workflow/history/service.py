"""Appending to, reading and verifying a case's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Case, HistoryEntry
from ..engine.serializer import to_json_value
from .chain import GENESIS, entry_hash


@dataclass(frozen=True)
class NewEntry:
    """An entry to append (the chain fields are filled in by `append`)."""

    action: str
    actor: str
    element_id: str | None = None
    data: Any = None


@dataclass(frozen=True)
class ChainHead:
    """Where a case's chain stands: the last entry's seq and hash, and the case's version."""

    case_id: Any
    seq: int
    head: str
    definition_version: int


def chain(head: ChainHead, entries: list[NewEntry], at: datetime) -> tuple[list[dict[str, Any]], ChainHead]:
    """The column values of `entries` appended after `head`, and the new head."""
    rows = []
    prev = head.head or GENESIS
    seq = head.seq
    for entry in entries:
        seq += 1
        data = to_json_value(entry.data if entry.data is not None else {})
        digest = entry_hash(
            case_id=str(head.case_id),
            seq=seq,
            at=at,
            actor=entry.actor,
            action=entry.action,
            element_id=entry.element_id,
            data=data,
            definition_version=head.definition_version,
            prev_hash=prev,
        )
        rows.append(
            {
                "case_id": head.case_id,
                "seq": seq,
                "at": at,
                "actor": entry.actor,
                "action": entry.action,
                "element_id": entry.element_id,
                "data": data,
                "definition_version": head.definition_version,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows, ChainHead(head.case_id, seq, prev, head.definition_version)


def append(session: Session, case: Case, entries: list[NewEntry], at: datetime) -> list[HistoryEntry]:
    """Append entries to the case's chain. The case row carries the head, so the optimistic
    lock on the case also serialises appends."""
    head = ChainHead(case.id, case.history_seq, case.history_head, case.definition_version)
    values, new_head = chain(head, entries, at)
    rows = [HistoryEntry(**row) for row in values]
    session.add_all(rows)
    case.history_seq = new_head.seq
    case.history_head = new_head.head
    return rows


def page(session: Session, case_id: Any, after_seq: int, limit: int) -> list[HistoryEntry]:
    return list(
        session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.case_id == case_id, HistoryEntry.seq > after_seq)
            .order_by(HistoryEntry.seq)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session, case: Case) -> Verification:
    """Recompute the chain; report the first entry whose content or link does not match."""
    prev = GENESIS
    count = 0
    expected_seq = 1
    rows = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.case_id == case.id)
        .order_by(HistoryEntry.seq)
        .execution_options(yield_per=500)
    )
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return Verification(False, count, expected_seq, f"entry {expected_seq} is missing")
        if row.prev_hash != prev:
            return Verification(False, count, row.seq, "prev_hash does not match the previous entry")
        digest = entry_hash(
            case_id=str(row.case_id),
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            element_id=row.element_id,
            data=row.data,
            definition_version=row.definition_version,
            prev_hash=prev,
        )
        if digest != row.hash:
            return Verification(False, count, row.seq, "entry content does not match its hash")
        prev = row.hash
        expected_seq += 1
    if count < case.history_seq:
        return Verification(False, count, count + 1, f"entries {count + 1}..{case.history_seq} are missing")
    if count > case.history_seq:
        return Verification(False, count, case.history_seq + 1, "entries after the case's recorded head")
    if prev != (case.history_head or GENESIS):
        return Verification(False, count, count or None, "the last entry is not the case's recorded head")
    return Verification(True, count)
