"""Case use cases: start by key, read (with visibility and masking), list, history, cancel, retry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..clock import Clock
from ..db.models import Case
from ..db.retry import write_with_retry
from ..db.session import Database
from ..definitions.registry import DefinitionRegistry
from ..engine import InvalidVariables, ProcessDefinition
from ..errors import Invalid, NotFound
from ..forms import schema_errors
from ..idempotency import Answer, remember, replay
from ..paging import decode_cursor, encode_cursor
from .access import can_see, visible_cases, visible_lanes, works_case
from .runtime import CaseRuntime
from .schemas import StartCase
from .views import case_summary, case_view

AccessHook = Callable[[Session, Principal, Case, bool], None]


def input_schema(definition: ProcessDefinition) -> dict[str, Any] | None:
    """The process's declared input schema: file `<key>.input.schema.json` in its bundle."""
    raw = definition.files.get(f"{definition.key}.input.schema.json")
    return json.loads(raw) if raw is not None else None


class CaseService:
    """Reads and administrative changes of cases."""

    def __init__(
        self,
        db: Database,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        clock: Clock,
        on_personal_data_read: AccessHook | None = None,
        default_group: str | None = None,
    ) -> None:
        self.default_group = default_group
        self.db = db
        self.registry = registry
        self.runtime = runtime
        self.clock = clock
        self.on_personal_data_read = on_personal_data_read

    # -- start --------------------------------------------------------------------------------
    def start(self, body: StartCase, principal: Principal) -> Answer:
        return write_with_retry(self.db, lambda session: self._start(session, body, principal))

    def _start(self, session: Session, body: StartCase, principal: Principal) -> Answer:
        raw = body.model_dump(mode="json")
        previous = replay(session, "start", body.request_id, raw, 200)
        if previous is not None:
            return previous
        definition = self.registry.latest(session, body.process_key)
        variables = {"loan_id": body.loan_id, **body.variables}
        schema = input_schema(definition)
        if schema is not None:
            problems = schema_errors(schema, variables)
            if problems:
                raise Invalid("variables do not match the process's input schema", details=problems)
        now = self.clock.now()
        try:
            case = self.runtime.start(session, definition, body.loan_id, variables, principal.actor, now)
        except InvalidVariables as err:
            raise Invalid(str(err), details=[{"field": "variables", "message": str(err)}]) from err
        answer = Answer(201, {"case_id": str(case.id), "status": case.status})
        remember(session, "start", body.request_id, raw, answer, case.id, now)
        return answer

    # -- reading ------------------------------------------------------------------------------
    def visible_case(self, session: Session, principal: Principal, case_id: uuid.UUID) -> Case:
        case = session.get(Case, case_id)
        if case is None or not can_see(session, principal, case, self.default_group):
            raise NotFound(f"case {case_id} not found")
        return case

    def view(self, session: Session, principal: Principal, case: Case) -> dict[str, Any]:
        unmasked = works_case(session, principal, case)
        lanes = visible_lanes(principal)
        view = case_view(session, case, mask=not unmasked, visible_lanes=lanes, now=self.clock.now())
        if self.on_personal_data_read is not None:
            self.on_personal_data_read(session, principal, case, unmasked)
        return view

    def get(self, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
        if self.on_personal_data_read is None:
            with self.db.read() as session:
                return self.view(session, principal, self.visible_case(session, principal, case_id))
        with self.db.write() as session:  # the read of personal data is itself recorded
            return self.view(session, principal, self.visible_case(session, principal, case_id))

    def list(
        self,
        principal: Principal,
        *,
        status: str | None,
        stage: str | None,
        loan_id: str | None,
        process_key: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        after = decode_cursor(cursor, 2)
        query = select(Case).where(visible_cases(principal, self.default_group))
        if status:
            query = query.where(Case.status == status)
        if stage:
            query = query.where(Case.stage == stage)
        if loan_id:
            query = query.where(Case.loan_id == loan_id)
        if process_key:
            query = query.where(Case.process_key == process_key)
        if after is not None:
            created, last_id = after
            query = query.where(
                or_(
                    Case.created_at < _parse_time(created),
                    and_(Case.created_at == _parse_time(created), Case.id < _parse_uuid(last_id)),
                )
            )
        query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)
        with self.db.read() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].id)]) if more and rows else None
        )
        return {"items": [case_summary(c) for c in rows], "next_cursor": next_cursor}

    # -- operator actions ---------------------------------------------------------------------
    def cancel(self, principal: Principal, case_id: uuid.UUID, reason: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            case = self.visible_case(session, principal, case_id)
            self.runtime.cancel(session, case, principal.actor, reason, self.clock.now())
            return self.view(session, principal, case)

        return write_with_retry(self.db, work)

    def retry(self, principal: Principal, case_id: uuid.UUID, variables: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            case = self.visible_case(session, principal, case_id)
            self.runtime.retry(session, case, principal.actor, self.clock.now(), variables)
            return self.view(session, principal, case)

        return write_with_retry(self.db, work)


def _parse_time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as err:
        raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}]) from err


def _parse_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as err:
        raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}]) from err
