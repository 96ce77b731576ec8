"""The worker loop: lease due timers → fire them per case; lease due outbox rows → pass them
through the contact policy and send them; now and then, purge contact records past retention."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from ..batches.runner import BatchRunner
from ..cases.repository import cases_by_ids
from ..channels.base import Channel
from ..channels.http import HttpGatewayChannel
from ..channels.sink import LocalSinkChannel
from ..clock import Clock
from ..compliance.guard import ContactGuard
from ..compliance.retention import RetentionJob
from ..db.models import Case
from ..db.unit_of_work import UnitOfWork
from ..errors import ServiceError
from ..history.anchors import Anchors, AnchorSchedule
from ..runtime import CaseRuntime
from ..settings import Settings
from .leases import lease_due_outbox, lease_due_timers
from .outbox import OutboxDispatcher
from .quarantine import quarantine

log = logging.getLogger("xinedai_workflow.worker")


def default_channel(settings: Settings) -> Channel:
    if settings.channel_gateway_url:
        return HttpGatewayChannel(settings.channel_gateway_url)
    return LocalSinkChannel(settings.outbox_sink_dir)


class BackgroundJob(Protocol):
    """Long work a worker runs in a thread of its own (e.g. simulations), until `stop` is set."""

    def run_forever(self, stop: threading.Event) -> None: ...


@dataclass(frozen=True)
class WorkerParts:
    """What a worker uses, and nothing more."""

    settings: Settings
    uow: UnitOfWork
    clock: Clock
    runtime: CaseRuntime
    guard: ContactGuard
    retention: RetentionJob
    batches: BatchRunner | None = None
    background: tuple[BackgroundJob, ...] = ()
    # jobs run every `housekeeping_interval_seconds` (agency recalls, credit-bureau reports);
    # each returns how much it did
    housekeeping: tuple[Callable[[], int], ...] = ()
    anchors: Anchors | None = None  # signed exports of the history chain heads (None: none)


class Worker:
    """One worker. Several may run against one PostgreSQL database; leases keep them apart."""

    def __init__(self, parts: WorkerParts, name: str | None = None, channel: Channel | None = None) -> None:
        self.uow = parts.uow
        self.clock = parts.clock
        self.runtime = parts.runtime
        self.retention = parts.retention
        self.batches = parts.batches
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.actor = f"system:worker:{self.name}"  # who fired a timer, in the case history
        settings = parts.settings
        self.poll = settings.worker_poll_seconds
        self.batch = settings.worker_batch_size
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.outbox = OutboxDispatcher(
            parts.uow,
            {},
            channel or default_channel(settings),
            parts.clock,
            guard=parts.guard,
            worker=self.name,
            runtime=parts.runtime,
        )
        self.background = parts.background
        self.housekeeping = parts.housekeeping
        self.purge_interval = timedelta(seconds=settings.retention_purge_interval_seconds)
        self.housekeeping_interval = timedelta(seconds=settings.housekeeping_interval_seconds)
        self._next_housekeeping: datetime | None = None
        self.anchor_schedule = (
            AnchorSchedule(parts.anchors, settings.anchor_interval_seconds) if parts.anchors else None
        )
        self._next_purge: datetime | None = None

    def fire_due_timers(self) -> int:
        """Lease one batch of due timers and fire them; return how many fired."""
        now = self.clock.now()
        leased = self.uow.write(lambda s: lease_due_timers(s, self.name, now, self.batch, self.lease))
        case_ids = list(OrderedDict((case_id, None) for _timer, case_id in leased))
        if not case_ids:
            return 0
        try:  # the whole batch in one transaction: one commit instead of one per case
            return self.uow.write(lambda s: self._fire_batch(s, case_ids), attempts=1)
        except ServiceError as err:
            log.info("%d cases not fired in one batch (%s); one at a time", len(case_ids), err.message)
        except Exception:
            log.warning("batch of %d cases failed; one case at a time", len(case_ids), exc_info=True)
        fired = 0
        for case_id in case_ids:
            try:
                fired += self._fire_with_retry(case_id)
            except ServiceError as err:
                log.warning("timers of case %s not fired this round: %s", case_id, err.message)
            except Exception as err:  # a poison case: into error on its own, the others go on
                self._quarantine(case_id, err)
        return fired

    def _quarantine(self, case_id: uuid.UUID, err: Exception) -> None:
        try:
            quarantine(self.uow.db, case_id, err, self.clock.now())
        except Exception:
            log.exception("case %s could not be put into error", case_id)

    def _fire_batch(self, session: Session, case_ids: list[uuid.UUID]) -> int:
        return self.runtime.fire_timers_of(
            session, cases_by_ids(session, case_ids), self.clock.now(), self.actor
        )

    def _fire_with_retry(self, case_id: uuid.UUID) -> int:
        def work(session: Session) -> int:
            case = session.get(Case, case_id)
            if case is None:
                return 0
            return self.runtime.fire_timers(session, case, self.clock.now(), self.actor)

        return self.uow.write(work)

    def drain_outbox(self) -> int:
        now = self.clock.now()
        ids = self.uow.write(lambda s: lease_due_outbox(s, self.name, now, self.batch, self.lease))
        sent = 0
        for message_id in ids:
            try:
                sent += 1 if self.outbox.dispatch(message_id) else 0
            except Exception:  # one bad row must not hold up the others (its lease runs out)
                log.exception("outbox message %s could not be dispatched", message_id)
        return sent

    def purge_if_due(self) -> int:
        """Run the retention purge when its interval has passed; return how many cases it purged."""
        now = self.clock.now()
        if self._next_purge is not None and now < self._next_purge:
            return 0
        self._next_purge = now + self.purge_interval
        return self.retention.run().cases

    def run_batches(self) -> int:
        """Run one leased chunk of batch items; return how many ran."""
        return self.batches.run_once(self.name) if self.batches is not None else 0

    def housekeeping_if_due(self) -> int:
        """Agency recalls at contract end and due credit-bureau reports, every interval."""
        now = self.clock.now()
        if self._next_housekeeping is not None and now < self._next_housekeeping:
            return 0
        self._next_housekeeping = now + self.housekeeping_interval
        return sum(job() for job in self.housekeeping)

    def anchor_if_due(self) -> int:
        """Export the signed chain heads when their interval has passed."""
        return self.anchor_schedule.run_if_due() if self.anchor_schedule is not None else 0

    def run_once(self) -> int:
        """One round of work; returns how many things were done. Each part runs even when an
        earlier one failed: a timer problem must not hold up the outbox, and the other way round."""
        done = 0
        parts = (
            self.fire_due_timers,
            self.drain_outbox,
            self.run_batches,
            self.purge_if_due,
            self.housekeeping_if_due,
            self.anchor_if_due,
        )
        for part in parts:
            try:
                done += part()
            except Exception:
                log.exception("worker step %s failed", part.__name__)
        return done

    def run_forever(self, stop: threading.Event) -> None:
        poll = self.poll
        log.info("worker %s started", self.name)
        threads = [
            threading.Thread(target=job.run_forever, args=(stop,), name=f"xinedai-job-{i}", daemon=True)
            for i, job in enumerate(self.background)
        ]
        for thread in threads:
            thread.start()
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:
                log.exception("worker round failed")
                done = 0
            if done < self.batch:
                stop.wait(poll)
        for thread in threads:
            thread.join(timeout=5)
        log.info("worker %s stopped", self.name)
