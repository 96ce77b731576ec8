"""The workers' part of batches: lease a chunk of pending items, run each in its own transaction,
record failures without stopping the batch, and close the batch when nothing is left."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..clock import Clock
from ..db.models import Batch, BatchItem
from ..db.unit_of_work import UnitOfWork
from ..errors import ServiceError
from . import repository
from .operations import BatchOperations

log = logging.getLogger("xinedai_workflow.batches")
RUNNABLE = ("pending", "running")


class BatchRunner:
    """Runs batch items for one worker. Several workers share a batch through item leases."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, operations: BatchOperations, chunk: int, lease: timedelta
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.operations = operations
        self.chunk = chunk
        self.lease = lease

    def run_once(self, owner: str) -> int:
        """Lease one chunk and run it; return how many items were run (done or failed)."""
        now = self.clock.now()
        ids = self.uow.write(lambda s: repository.lease_items(s, owner, now, self.chunk, self.lease))
        if not ids:
            return 0
        ran = 0
        batches: set[uuid.UUID] = set()
        for item_id in ids:
            outcome = self._run_item(item_id)
            if outcome is not None:
                ran += 1
                batches.add(outcome)
        for batch_id in batches:
            self._close(batch_id)
        return ran

    def _close(self, batch_id: uuid.UUID) -> None:
        self.uow.write(lambda session: self._close_if_done(session, batch_id))

    def _run_item(self, item_id: int) -> uuid.UUID | None:
        """Run one item; the batch's id when it ran (done or failed), None when it was skipped."""

        def work(session: Session) -> uuid.UUID | None:
            item = session.get(BatchItem, item_id)
            if item is None or item.status != "pending":
                return None
            batch = session.get(Batch, item.batch_id)
            if batch is None or batch.status not in RUNNABLE:
                item.lease_owner = item.lease_until = None  # paused or cancelled meanwhile
                return None
            if batch.status == "pending":
                session.execute(
                    update(Batch)
                    .where(Batch.id == batch.id, Batch.status == "pending")
                    .values(status="running", started_at=self.clock.now())
                    .execution_options(synchronize_session=False)
                )
            self.operations.run(session, batch, item)
            item.status = "done"
            item.finished_at = self.clock.now()
            item.lease_owner = item.lease_until = None
            return batch.id

        try:
            return self.uow.write(work)
        except ServiceError as err:
            message = f"{err.code}: {err.message}"
        except Exception as err:  # one broken case must not stop the batch; it is listed
            log.exception("batch item %s failed", item_id)
            message = f"{type(err).__name__}: {err}"
        return self.uow.write(lambda s: self._fail(s, item_id, message))

    def _fail(self, session: Session, item_id: int, message: str) -> uuid.UUID | None:
        item = session.get(BatchItem, item_id)
        if item is None or item.status != "pending":
            return None
        item.status = "failed"
        item.error = message[:2000]
        item.finished_at = self.clock.now()
        item.lease_owner = item.lease_until = None
        return item.batch_id

    def _close_if_done(self, session: Session, batch_id: uuid.UUID) -> None:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status not in RUNNABLE or repository.pending_left(session, batch_id):
            return
        counts = repository.progress(session, batch_id)
        batch.status = "completed"
        batch.done = counts.get("done", 0)
        batch.failed = counts.get("failed", 0)
        batch.finished_at = self.clock.now()
