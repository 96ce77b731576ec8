"""Case use cases: start by key, read (with visibility and masking), list, cancel, retry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import can_see, visible_cases, visible_lanes, works_case
from ..clock import Clock
from ..db.cursor import decode_cursor, encode_cursor
from ..db.idempotency import Answer
from ..db.models import Case
from ..db.unit_of_work import Key, UnitOfWork
from ..definitions.registry import DefinitionRegistry
from ..engine import InvalidVariables, ProcessDefinition
from ..errors import Invalid, NotFound
from ..runtime import CaseRuntime
from ..tasks.forms import schema_errors
from . import repository
from .schemas import StartCase
from .views import CaseRows, case_summary, case_view

AccessHook = Callable[[Session, Principal, Case, bool], None]


def input_schema(definition: ProcessDefinition) -> dict[str, Any] | None:
    """The process's declared input schema: file `<key>.input.schema.json` in its bundle."""
    raw = definition.files.get(f"{definition.key}.input.schema.json")
    return json.loads(raw) if raw is not None else None


class CaseService:
    """Reads and administrative changes of cases."""

    def __init__(
        self,
        uow: UnitOfWork,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        clock: Clock,
        on_personal_data_read: AccessHook,
        default_group: str | None = None,
    ) -> None:
        self.uow = uow
        self.default_group = default_group
        self.registry = registry
        self.runtime = runtime
        self.clock = clock
        self.on_personal_data_read = on_personal_data_read

    # -- start --------------------------------------------------------------------------------
    def start(self, body: StartCase, principal: Principal) -> Answer:
        key = Key("start", body.request_id, body.model_dump(mode="json"), replay_status=200)
        return self.uow.once(key, lambda session: self._start(session, body, principal))

    def _start(self, session: Session, body: StartCase, principal: Principal) -> Answer:
        definition = self.registry.latest(session, body.process_key)
        variables = {"loan_id": body.loan_id, **body.variables}
        schema = input_schema(definition)
        if schema is not None:
            problems = schema_errors(schema, variables)
            if problems:
                raise Invalid("variables do not match the process's input schema", details=problems)
        try:
            case = self.runtime.open(
                session, definition, body.loan_id, variables, principal.actor, self.clock.now()
            )
        except InvalidVariables as err:
            raise Invalid(str(err), details=[{"field": "variables", "message": str(err)}]) from err
        return Answer(201, {"case_id": str(case.id), "status": case.status})

    # -- reading ------------------------------------------------------------------------------
    def visible_case(self, session: Session, principal: Principal, case_id: uuid.UUID) -> Case:
        case = session.get(Case, case_id)
        if case is None or not can_see(session, principal, case, self.default_group):
            raise NotFound(f"case {case_id} not found")
        return case

    def view(
        self,
        session: Session,
        principal: Principal,
        case: Case,
        rows: CaseRows | None = None,
        works: bool | None = None,
    ) -> dict[str, Any]:
        """The case as the caller may see it; a read of personal data is recorded. `rows`: the
        case's open tasks and waits when the caller holds them (else they are read); `works`:
        True when the caller is known to work the case (else it is looked up)."""
        unmasked = works if works is not None else works_case(session, principal, case)
        lanes = visible_lanes(principal)
        view = case_view(
            session, case, mask=not unmasked, visible_lanes=lanes, now=self.clock.now(), rows=rows
        )
        self.on_personal_data_read(session, principal, case, unmasked)
        return view

    def get(self, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
        # a write: the read of personal data is itself recorded
        return self.uow.write(lambda s: self.view(s, principal, self.visible_case(s, principal, case_id)))

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
        position = (_parse_time(after[0]), _parse_uuid(after[1])) if after is not None else None
        rows = self.uow.read(
            lambda session: repository.list_cases(
                session,
                visible_cases(principal, self.default_group),
                status=status,
                stage=stage,
                loan_id=loan_id,
                process_key=process_key,
                after=position,
                limit=limit + 1,
            )
        )
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

        return self.uow.write(work)

    def retry(self, principal: Principal, case_id: uuid.UUID, variables: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            case = self.visible_case(session, principal, case_id)
            self.runtime.retry(session, case, principal.actor, self.clock.now(), variables)
            return self.view(session, principal, case)

        return self.uow.write(work)


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
