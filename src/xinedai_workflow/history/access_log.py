"""The personal-data access log: every unmasked read of a borrower's personal data leaves a row.

The row is written in the same transaction as the read it records (a read that fails to log
fails). It lives in its own append-only table rather than in the case's hash chain: a chain entry
bumps the case's optimistic lock, so busy collectors reading a case would make its engine steps
retry. The table refuses UPDATE and DELETE at the database level (migration 0002).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..clock import Clock
from ..db.cursor import decode_cursor, encode_cursor
from ..db.models import Case, PersonalDataRead
from ..db.session import Database
from ..domain.masking import personal_paths
from ..errors import Invalid

MAX_FIELDS = 100
ReadHook = Callable[[Session, Principal, Case, bool], None]


class AccessLog:
    """Records unmasked reads of personal data and lists them for compliance and auditors."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record(
        self,
        session: Session,
        principal: Principal,
        case: Case,
        access: str,
        revealed: Any,
        task_id: uuid.UUID | None = None,
    ) -> PersonalDataRead | None:
        """Log the read if `revealed` (what the caller got unmasked) holds any personal data."""
        fields = personal_paths(revealed)
        if not fields:
            return None
        row = PersonalDataRead(
            at=self.clock.now(),
            actor=principal.actor,
            roles=sorted(principal.roles),
            case_id=case.id,
            loan_id=case.loan_id,
            task_id=task_id,
            access=access,
            fields=sorted(set(fields))[:MAX_FIELDS],
        )
        session.add(row)
        session.flush()
        return row

    def hook(self, access: str) -> ReadHook:
        """A callback for services that show a case's variables: logs the unmasked ones."""

        def on_read(session: Session, principal: Principal, case: Case, unmasked: bool) -> None:
            if unmasked:
                self.record(session, principal, case, access, case.variables)

        return on_read

    def list(
        self,
        *,
        case_id: uuid.UUID | None,
        actor: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        """Newest first; filters by case, actor and time range [since, until)."""
        if since is not None and until is not None and since >= until:
            raise Invalid("'from' must be before 'to'", details=[{"field": "from", "message": "after 'to'"}])
        query = select(PersonalDataRead)
        if case_id is not None:
            query = query.where(PersonalDataRead.case_id == case_id)
        if actor:
            query = query.where(PersonalDataRead.actor == actor)
        if since is not None:
            query = query.where(PersonalDataRead.at >= since)
        if until is not None:
            query = query.where(PersonalDataRead.at < until)
        after = decode_cursor(cursor, 2)
        if after is not None:
            try:
                at, last_id = datetime.fromisoformat(str(after[0])), int(after[1])
            except (TypeError, ValueError) as err:
                raise Invalid(
                    "cursor is not valid", details=[{"field": "cursor", "message": "malformed"}]
                ) from err
            query = query.where(
                or_(
                    PersonalDataRead.at < at,
                    and_(PersonalDataRead.at == at, PersonalDataRead.id < last_id),
                )
            )
        query = query.order_by(PersonalDataRead.at.desc(), PersonalDataRead.id.desc()).limit(limit + 1)
        with self.db.read() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            {
                "id": r.id,
                "at": r.at,
                "actor": r.actor,
                "roles": r.roles,
                "case_id": str(r.case_id),
                "loan_id": r.loan_id,
                "task_id": str(r.task_id) if r.task_id else None,
                "access": r.access,
                "fields": r.fields,
            }
            for r in rows
        ]
        next_cursor = encode_cursor([rows[-1].at.isoformat(), rows[-1].id]) if more and rows else None
        return {"items": items, "next_cursor": next_cursor}
