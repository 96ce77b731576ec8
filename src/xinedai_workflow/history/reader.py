"""Reading and verifying a case's history over the API: visibility, masking, access logging."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import can_see, works_case
from ..db.cursor import decode_cursor, encode_cursor
from ..db.models import Case, HistoryEntry
from ..db.unit_of_work import UnitOfWork
from ..domain.masking import mask_personal_data
from ..errors import Invalid, NotFound
from . import service as chain
from .access_log import AccessLog
from .anchors import Anchors


def entry_view(row: HistoryEntry, mask: bool) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "element_id": row.element_id,
        "data": mask_personal_data(row.data) if mask else row.data,
        "definition_version": row.definition_version,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


class HistoryService:
    """The append-only history as callers may see it. Nothing here writes an entry."""

    def __init__(
        self,
        uow: UnitOfWork,
        access_log: AccessLog,
        anchors: Anchors | None = None,
        default_group: str | None = None,
    ) -> None:
        self.uow = uow
        self.default_group = default_group  # see auth.visibility.can_see
        self.access_log = access_log
        self.anchors = anchors

    def _case(self, session: Session, principal: Principal, case_id: uuid.UUID) -> Case:
        case = session.get(Case, case_id)
        if case is None or not can_see(session, principal, case, self.default_group):
            raise NotFound(f"case {case_id} not found")
        return case

    def page(
        self, principal: Principal, case_id: uuid.UUID, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        """Entries oldest first. Personal data in `data` is masked for callers who do not work the
        case (the hashes are those of the stored, unmasked entries)."""
        after = decode_cursor(cursor, 1)
        after_seq = 0
        if after is not None:
            if not isinstance(after[0], int) or isinstance(after[0], bool) or after[0] < 0:
                raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}])
            after_seq = after[0]

        def work(session: Session) -> dict[str, Any]:  # an unmasked read is logged in the same transaction
            case = self._case(session, principal, case_id)
            rows = chain.page(session, case.id, after_seq, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            unmasked = works_case(session, principal, case)
            items = [entry_view(r, mask=not unmasked) for r in rows]
            if unmasked:
                revealed = {f"entry_{i['seq']}": i["data"] for i in items}
                self.access_log.record(session, principal, case, "history", revealed)
            return {"items": items, "next_cursor": encode_cursor([rows[-1].seq]) if more and rows else None}

        return self.uow.write(work)

    def verify(self, principal: Principal, case_id: uuid.UUID) -> chain.Verification:
        """Recompute the chain, then compare it with the head anchored outside the database (a
        rewritten tail *and* head verify on their own, but not against the anchor)."""
        return self.uow.read(lambda session: self._verify(session, principal, case_id))

    def _verify(self, session: Session, principal: Principal, case_id: uuid.UUID) -> chain.Verification:
        case = self._case(session, principal, case_id)
        result = chain.verify(session, case)
        if not result.valid or self.anchors is None:
            return result
        contradiction = self.anchors.check(session, case)
        if contradiction is None:
            return result
        seq, reason = contradiction
        return chain.Verification(False, result.entries, seq, reason)
