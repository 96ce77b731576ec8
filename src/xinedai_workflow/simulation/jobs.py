"""Workers run the queued simulations, one at a time per worker, in a thread of their own so
timers and the outbox keep moving. A running simulation holds a lease renewed every simulated
day; a worker that dies lets it expire and another worker starts the simulation again."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..db.models import Simulation
from ..db.unit_of_work import UnitOfWork
from ..definitions import repository as definitions
from .model import parse_model
from .run import ServiceFactory, SimulationCancelled
from .simulator import Variant, simulate

log = logging.getLogger("xinedai_workflow.simulation")
LEASE = timedelta(minutes=30)


class SimulationJobs:
    """Leases and runs queued simulations on a scratch database each."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        shipped_dir: Path,
        build: ServiceFactory,
        name: str = "worker",
        poll_seconds: float = 2.0,
        scratch_parent: Path | None = None,
    ) -> None:
        self.uow, self.clock, self.shipped_dir, self.build = uow, clock, shipped_dir, build
        self.name, self.poll, self.scratch_parent = name, poll_seconds, scratch_parent

    def _due(self) -> Any:
        now = self.clock.now()
        return (
            select(Simulation)
            .where(
                or_(
                    Simulation.status == "queued",
                    (Simulation.status == "running") & (Simulation.lease_until < now),
                )
            )
            .order_by(Simulation.created_at, Simulation.id)
            .limit(1)
        )

    def _lease(self, session: Session) -> tuple[Simulation, dict[str, Variant]] | None:
        now = self.clock.now()
        query = self._due()
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = session.scalars(query).first()
        if row is None:
            return None
        row.status, row.lease_owner, row.lease_until = "running", self.name, now + LEASE
        row.started_at, row.days_done = now, 0
        request = row.request
        variants: dict[str, Variant] = {}
        names = ("baseline", "candidate") if request.get("candidate") else ("baseline",)
        for name in names:
            variants[name] = self._variant(session, name, request[name])
        session.flush()
        return row, variants

    def _variant(self, session: Session, name: str, ref: dict[str, Any]) -> Variant:
        if ref["source"] == "shipped":
            return Variant.from_dir(name, self.shipped_dir)
        if ref["source"] == "files":  # stored files, e.g. a studio draft as it was when asked
            return Variant.from_files(
                name, self.shipped_dir, definitions.stored_contents(session, ref["files"])
            )
        version = definitions.get_version(session, ref["key"], int(ref["version"]))
        if version is None:
            raise LookupError(f"{ref['key']} version {ref['version']} is no longer deployed")
        return Variant.from_files(name, self.shipped_dir, definitions.version_files(session, version.id))

    def run_next(self) -> bool:
        """Run the next queued simulation to its end; False when there was none."""
        # polling reads first: an idle worker never takes SQLite's write lock for this
        if self.uow.read(lambda session: session.scalars(self._due()).first()) is None:
            return False
        try:
            leased = self.uow.write(self._lease)
        except LookupError as err:
            log.warning("simulation not runnable: %s", err)
            return False
        if leased is None:
            return False
        row, variants = leased
        simulation_id, request = row.id, row.request
        cancel = threading.Event()

        def progress(done: int, _total: int, _label: str) -> None:
            def work(session: Session) -> None:
                current = session.get(Simulation, simulation_id)
                if current is None or current.lease_owner != self.name:
                    cancel.set()  # the lease was lost to another worker: stop
                    return
                current.days_done = done
                current.lease_until = self.clock.now() + LEASE
                if current.cancel_requested:
                    cancel.set()

            self.uow.write(work)

        try:
            summary, _runs = simulate(
                [variants[n] for n in ("baseline", "candidate") if n in variants],
                parse_model(request["model"]),
                int(request["cases"]),
                int(request["days"]),
                int(request["seed"]),
                self.build,
                int(request["replications"]),
                progress=progress,
                cancelled=cancel.is_set,
                workdir=self.scratch_parent,
            )
        except SimulationCancelled:
            self._finish(simulation_id, "cancelled", None, None)
        except Exception as err:
            log.exception("simulation %s failed", simulation_id)
            self._finish(simulation_id, "failed", None, f"{type(err).__name__}: {err}")
        else:
            self._finish(simulation_id, "completed", summary, None)
        return True

    def _finish(
        self, simulation_id: Any, status: str, summary: dict[str, Any] | None, error: str | None
    ) -> None:
        def work(session: Session) -> None:
            row = session.get(Simulation, simulation_id)
            if row is None or row.lease_owner != self.name:
                return
            row.status, row.summary, row.error = status, summary, error
            row.finished_at, row.lease_until = self.clock.now(), None
            if status == "completed":
                row.days_done = row.days_total

        self.uow.write(work)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ran = self.run_next()
            except Exception:
                log.exception("simulation round failed")
                ran = False
            if not ran:
                stop.wait(self.poll)
