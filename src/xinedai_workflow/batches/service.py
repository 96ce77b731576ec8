"""Batch use cases: plan (dry run) and create a batch, read its progress, pause, resume, cancel.

A batch selects its cases (or, for contact pauses, its loans) when it is created — the items are
written in the same transaction — and the workers then run the items in leased chunks, each item
in its own transaction (`runner.py`).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import visible_cases
from ..clock import Clock
from ..db.idempotency import Answer
from ..db.models import Batch, Case
from ..db.unit_of_work import Key, UnitOfWork
from ..definitions.registry import DefinitionRegistry
from ..errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from ..ids import uuid7
from ..migration.service import migrate_case, target_version
from ..runtime import CaseRuntime
from . import repository
from .schemas import PARAMS, CreateBatch, MigrateParams, PauseParams

# Who may run which operation (admin: all).
OPERATION_ROLES: dict[str, tuple[str, ...]] = {
    "migrate": ("compliance",),
    "pause_contact": ("compliance",),
    "resume_contact": ("compliance",),
    "cancel": ("supervisor",),
    "retry": ("supervisor",),
    "message": ("supervisor",),
}
LOAN_OPERATIONS = frozenset({"pause_contact", "resume_contact"})
SAMPLE_SIZE = 10
READERS = ("compliance", "supervisor", "auditor")


def _params(body: CreateBatch) -> BaseModel:
    try:
        return PARAMS[body.operation].model_validate(body.params)
    except ValidationError as err:
        details = [
            {"field": ".".join(["params", *(str(p) for p in e["loc"])]), "message": e["msg"]}
            for e in err.errors()
        ]
        raise Invalid(f"params do not fit operation {body.operation!r}", details=details) from err


def check_role(principal: Principal, operation: str) -> None:
    roles = OPERATION_ROLES[operation]
    if not (principal.is_admin or principal.has(*roles)):
        raise Forbidden(
            f"operation {operation!r} needs one of the roles: {', '.join(roles)}", code="role_not_allowed"
        )


class BatchService:
    def __init__(
        self,
        uow: UnitOfWork,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        clock: Clock,
        max_items: int = 100_000,
    ) -> None:
        self.uow = uow
        self.registry = registry
        self.runtime = runtime
        self.clock = clock
        self.max_items = max_items

    # -- create -------------------------------------------------------------------------------
    def create(self, principal: Principal, body: CreateBatch) -> Answer:
        check_role(principal, body.operation)
        params = _params(body)
        if body.operation == "migrate" and body.filter.process_key is None:
            details = [{"field": "filter.process_key", "message": "migrate needs the process key"}]
            raise Invalid("a migrate batch needs filter.process_key", details=details)
        if isinstance(params, PauseParams) and params.until <= self.clock.now():
            details = [{"field": "params.until", "message": "must be in the future"}]
            raise Invalid("a contact pause must end in the future", details=details)
        if body.dry_run:
            return self.uow.read(lambda session: self._plan(session, principal, body, params))
        if body.request_id is None:
            return self.uow.write(lambda session: self._create(session, principal, body))
        key = Key("batch", body.request_id, body.model_dump(mode="json"), replay_status=200)
        return self.uow.once(key, lambda session: self._create(session, principal, body))

    def _items(
        self, session: Session, principal: Principal, body: CreateBatch
    ) -> list[tuple[uuid.UUID | None, str]]:
        visible = visible_cases(principal)
        where = body.filter
        if body.operation == "retry" and where.status is None:  # only a case in error can be retried
            where = where.model_copy(update={"status": "error"})
        if body.operation in LOAN_OPERATIONS:
            rows: list[tuple[uuid.UUID | None, str]] = [
                (None, loan) for loan in repository.select_loans(session, visible, where)
            ]
        else:
            rows = list(repository.select_cases(session, visible, where))
        if len(rows) > self.max_items:
            details = [{"field": "filter", "message": f"selects {len(rows)} items; at most {self.max_items}"}]
            raise Invalid(f"the filter selects more than {self.max_items} items", details=details)
        if body.operation == "migrate" and body.filter.process_key is not None:
            params = MigrateParams.model_validate(body.params)
            target_version(
                session, self.registry, body.filter.process_key, params.to_version
            )  # 404 if unknown
        return rows

    def _plan(self, session: Session, principal: Principal, body: CreateBatch, params: BaseModel) -> Answer:
        rows = self._items(session, principal, body)
        sample: list[dict[str, Any]] = []
        for case_id, loan_id in rows[:SAMPLE_SIZE]:
            if case_id is None:
                sample.append({"loan_id": loan_id})
                continue
            case = session.get(Case, case_id)
            if case is None:
                continue
            entry: dict[str, Any] = {
                "case_id": str(case.id),
                "loan_id": case.loan_id,
                "status": case.status,
                "stage": case.stage,
                "version": case.definition_version,
            }
            if isinstance(params, MigrateParams):
                try:
                    entry.update(
                        migrate_case(
                            session,
                            self.runtime,
                            self.registry,
                            case,
                            params.to_version,
                            params.mapping,
                            principal.actor,
                            self.clock,
                            True,
                            params.reason,
                        )
                    )
                except ServiceError as err:
                    entry["applied"] = False
                    entry["error"] = {"code": err.code, "message": err.message, "details": err.details}
            sample.append(entry)
        return Answer(200, {"total": len(rows), "sample": sample})

    def _create(self, session: Session, principal: Principal, body: CreateBatch) -> Answer:
        rows = self._items(session, principal, body)
        now = self.clock.now()
        batch = Batch(
            id=uuid7(),
            operation=body.operation,
            filter=body.filter.model_dump(mode="json", exclude_none=True),
            params=body.params,
            status="pending" if rows else "completed",
            total=len(rows),
            done=0,
            failed=0,
            request_id=body.request_id,
            created_by=principal.actor,
            created_at=now,
            finished_at=None if rows else now,
        )
        session.add(batch)
        session.flush()
        repository.add_items(session, batch.id, rows)
        return Answer(202, {"batch_id": str(batch.id), "total": len(rows)})

    # -- read and control ---------------------------------------------------------------------
    def _batch(self, session: Session, principal: Principal, batch_id: uuid.UUID) -> Batch:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFound(f"batch {batch_id} not found")
        if not (principal.is_admin or principal.has(*READERS)):
            raise Forbidden(
                "reading batches needs compliance, supervisor or auditor", code="role_not_allowed"
            )
        if not (
            principal.is_admin or principal.has("auditor") or principal.has(*OPERATION_ROLES[batch.operation])
        ):
            raise NotFound(f"batch {batch_id} not found")  # not theirs to see
        return batch

    def view(self, session: Session, batch: Batch) -> dict[str, Any]:
        counts = repository.progress(session, batch.id)
        return {
            "batch_id": str(batch.id),
            "operation": batch.operation,
            "status": batch.status,
            "total": batch.total,
            "done": counts.get("done", 0),
            "failed": counts.get("failed", 0),
            "errors": repository.errors(session, batch.id),
            "created_by": batch.created_by,
            "created_at": batch.created_at,
            "finished_at": batch.finished_at,
            "filter": batch.filter,
            "params": batch.params,
        }

    def get(self, principal: Principal, batch_id: uuid.UUID) -> dict[str, Any]:
        return self.uow.read(lambda session: self.view(session, self._batch(session, principal, batch_id)))

    def _control(self, principal: Principal, batch_id: uuid.UUID, action: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            batch = self._batch(session, principal, batch_id)
            check_role(principal, batch.operation)
            now = self.clock.now()
            if batch.status in ("completed", "cancelled"):
                raise Conflict(f"the batch is already {batch.status}", code="batch_ended")
            if action == "pause":
                batch.status = "paused"
            elif action == "resume":
                if batch.status == "paused":
                    batch.status = "running" if batch.started_at is not None else "pending"
            else:
                batch.status = "cancelled"
                batch.finished_at = now
                repository.skip_pending(session, batch.id, now)
            session.flush()
            return self.view(session, batch)

        return self.uow.write(work)

    def pause(self, principal: Principal, batch_id: uuid.UUID) -> dict[str, Any]:
        return self._control(principal, batch_id, "pause")

    def resume(self, principal: Principal, batch_id: uuid.UUID) -> dict[str, Any]:
        return self._control(principal, batch_id, "resume")

    def cancel(self, principal: Principal, batch_id: uuid.UUID) -> dict[str, Any]:
        return self._control(principal, batch_id, "cancel")
