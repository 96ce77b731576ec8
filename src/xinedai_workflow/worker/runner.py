"""The worker loop: lease due timers → fire them per case; lease due outbox rows → pass them
through the contact policy and send them; now and then, purge contact records past retention."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.base import Channel
from ..channels.http import HttpGatewayChannel
from ..channels.sink import LocalSinkChannel
from ..container import Services
from ..db.models import Case
from ..db.retry import write_with_retry
from ..errors import ServiceError
from ..history.anchors import AnchorSchedule
from .leases import lease_due_outbox, lease_due_timers
from .outbox import OutboxDispatcher
from .quarantine import quarantine

log = logging.getLogger("xinedai_workflow.worker")


def default_channel(services: Services) -> Channel:
    if services.settings.channel_gateway_url:
        return HttpGatewayChannel(services.settings.channel_gateway_url)
    return LocalSinkChannel(services.settings.outbox_sink_dir)


class Worker:
    """One worker. Several may run against one PostgreSQL database; leases keep them apart."""

    def __init__(self, services: Services, name: str | None = None, channel: Channel | None = None) -> None:
        self.services = services
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.actor = f"system:worker:{self.name}"  # who fired a timer, in the case history
        settings = services.settings
        self.batch = settings.worker_batch_size
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.outbox = OutboxDispatcher(
            services.db,
            {},
            channel or default_channel(services),
            services.clock,
            guard=services.compliance.guard,
            worker=self.name,
            runtime=services.runtime,
        )
        self.purge_interval = timedelta(seconds=settings.retention_purge_interval_seconds)
        self.anchor_schedule = AnchorSchedule(services.anchors, settings.anchor_interval_seconds)
        self._next_purge: datetime | None = None

    def fire_due_timers(self) -> int:
        """Lease one batch of due timers and fire them; return how many fired."""
        now = self.services.clock.now()
        with self.services.db.write() as session:
            leased = lease_due_timers(session, self.name, now, self.batch, self.lease)
        case_ids = list(OrderedDict((case_id, None) for _timer, case_id in leased))
        if not case_ids:
            return 0
        try:  # the whole batch in one transaction: one commit instead of one per case
            return write_with_retry(self.services.db, lambda s: self._fire_batch(s, case_ids), attempts=1)
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
            quarantine(self.services.db, case_id, err, self.services.clock.now())
        except Exception:
            log.exception("case %s could not be put into error", case_id)

    def _fire_batch(self, session: Session, case_ids: list[uuid.UUID]) -> int:
        cases = session.scalars(select(Case).where(Case.id.in_(case_ids))).all()
        return self.services.runtime.fire_timers_of(session, cases, self.services.clock.now(), self.actor)

    def _fire_with_retry(self, case_id: uuid.UUID) -> int:
        def work(session: Session) -> int:
            case = session.get(Case, case_id)
            if case is None:
                return 0
            return self.services.runtime.fire_timers(session, case, self.services.clock.now(), self.actor)

        return write_with_retry(self.services.db, work)

    def drain_outbox(self) -> int:
        now = self.services.clock.now()
        with self.services.db.write() as session:
            ids = lease_due_outbox(session, self.name, now, self.batch, self.lease)
        sent = 0
        for message_id in ids:
            try:
                sent += 1 if self.outbox.dispatch(message_id) else 0
            except Exception:  # one bad row must not hold up the others (its lease runs out)
                log.exception("outbox message %s could not be dispatched", message_id)
        return sent

    def purge_if_due(self) -> int:
        """Run the retention purge when its interval has passed; return how many cases it purged."""
        now = self.services.clock.now()
        if self._next_purge is not None and now < self._next_purge:
            return 0
        self._next_purge = now + self.purge_interval
        return self.services.compliance.retention.run().cases

    def run_once(self) -> int:
        """One round of work; returns how many things were done. Each part runs even when an
        earlier one failed: a timer problem must not hold up the outbox, and the other way round."""
        done = 0
        parts = (self.fire_due_timers, self.drain_outbox, self.purge_if_due, self.anchor_schedule.run_if_due)
        for part in parts:
            try:
                done += part()
            except Exception:
                log.exception("worker step %s failed", part.__name__)
        return done

    def run_forever(self, stop: threading.Event) -> None:
        poll = self.services.settings.worker_poll_seconds
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:
                log.exception("worker round failed")
                done = 0
            if done < self.batch:
                stop.wait(poll)
        log.info("worker %s stopped", self.name)
