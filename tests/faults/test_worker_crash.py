"""kill -9 of a worker in the middle of a batch of due timers, while a second worker runs: every
timer's effect happens exactly once (one `timer_fired` per timer, one follow-up task, the
diagram's own counter at 1), and the timers the dead worker had leased are fired by the other
worker once its lease expires."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.faults.conftest import FAULT_DIAGRAMS
from tests.service_processes import Process, worker_process
from xinedai_workflow.bootstrap import Services, build_services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.bulk import insert_new_in_bulk
from xinedai_workflow.db.models import Case, HistoryEntry, HumanTask, Timer
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.history.service import verify
from xinedai_workflow.settings import Settings

pytestmark = pytest.mark.slow

TIMERS = 2000
LEASE_SECONDS = 5
WORKER_SETTINGS = {
    "XINEDAI_WORKER_BATCH_SIZE": "50",
    "XINEDAI_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
    "XINEDAI_WORKER_POLL_SECONDS": "0.05",
}


def seed_due_timers(services: Services, count: int) -> None:
    """`count` f_timer cases started two hours ago: their one-hour timers are due now."""
    services.definitions.deploy(read_bundle_dir([FAULT_DIAGRAMS / "f_timer.bpmn"]), "test")
    with services.db.read() as session:
        definition = services.registry.latest(session, "f_timer")
    for start in range(0, count, 500):
        with services.db.write() as session:
            for index in range(start, min(start + 500, count)):
                loan_id = f"F-{index:05d}"
                variables = {"loan_id": loan_id, "timer_fired_count": 0}
                services.runtime.open(
                    session, definition, loan_id, variables, "test", services.clock.now(), flush=False
                )
            insert_new_in_bulk(session)


def _leased_by(services: Services, process: Process) -> set[uuid.UUID]:
    """Case ids whose timers `process` has leased and not fired (worker names hold the pid)."""
    with services.db.read() as session:
        return set(
            session.scalars(
                select(Timer.case_id).where(
                    Timer.lease_owner.like(f"%:{process.pid}:%"), Timer.lease_until > datetime.now(UTC)
                )
            )
        )


def _fired(services: Services) -> int:
    with services.db.read() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == "timer_fired")
            )
            or 0
        )


def _wait_until_started(*workers: Process, timeout: float = 120) -> None:
    """The workers are in their loop (they log `worker <name> started`)."""
    deadline = time.monotonic() + timeout
    while not all("started" in w.output() for w in workers):
        if time.monotonic() > deadline:
            raise AssertionError("workers did not start:\n" + "\n".join(w.output() for w in workers))
        time.sleep(0.05)


def _stop_in_the_middle_of_a_batch(services: Services, victim: Process) -> set[uuid.UUID]:
    """Once 100 timers fired, freeze (SIGSTOP) the victim at a moment it holds a leased batch it has
    not committed; return the cases it holds. Freezing first makes the catch exact: a batch that
    was committed between the look and the stop is let go and the next one is tried."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _fired(services) >= 100 and _leased_by(services, victim):
            victim.pause()
            held = _leased_by(services, victim)
            if held:
                return held
            victim.resume()
        time.sleep(0.005)
    raise AssertionError(
        f"the victim was not caught in a batch ({_fired(services)} fired):\n{victim.output()}"
    )


def test_kill_9_mid_batch_fires_every_timer_exactly_once(
    database_url: str, tmp_path: Path, processes: list[Process]
) -> None:
    settings = Settings(database_url=database_url, jwt_secret="x" * 32, worker_enabled=False)
    services = build_services(settings, ManualClock(datetime.now(UTC) - timedelta(hours=2)))
    try:
        # The victim, frozen inside a batch, is killed once the survivor runs. (Racing two live
        # workers for the kill moment is flaky: on SQLite the one that just committed tends to get
        # the write lock again, and the other may never lease anything.)
        victim = worker_process(database_url, tmp_path, "victim", **WORKER_SETTINGS).start()
        processes.append(victim)
        _wait_until_started(victim)
        seed_due_timers(services, TIMERS)
        orphans = _stop_in_the_middle_of_a_batch(services, victim)
        survivor = worker_process(database_url, tmp_path, "survivor", **WORKER_SETTINGS).start()
        processes.append(survivor)
        _wait_until_started(survivor)
        victim.kill9()

        deadline = time.monotonic() + 120
        while _fired(services) < TIMERS and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a double firing would show up now

        with services.db.read() as session:
            per_case = dict(
                session.execute(
                    select(HistoryEntry.case_id, func.count())
                    .where(HistoryEntry.action == "timer_fired")
                    .group_by(HistoryEntry.case_id)
                ).all()
            )
            cases = session.scalars(select(Case)).all()
            follow_ups = dict(
                session.execute(
                    select(HumanTask.case_id, func.count())
                    .where(HumanTask.element_id == "follow_up")
                    .group_by(HumanTask.case_id)
                ).all()
            )
            left = session.scalar(select(func.count()).select_from(Timer))
            orphan_firings = session.scalars(
                select(HistoryEntry.actor).where(
                    HistoryEntry.case_id.in_(orphans), HistoryEntry.action == "timer_fired"
                )
            ).all()
            broken = [c.id for c in cases[:200] if not verify(session, c).valid]
            broken += [c.id for c in cases if c.id in orphans and not verify(session, c).valid]

        assert len(cases) == TIMERS
        assert left == 0, survivor.output()
        assert set(per_case) == {c.id for c in cases} and set(per_case.values()) == {1}
        assert set(follow_ups.values()) == {1} and len(follow_ups) == TIMERS
        assert {c.variables["timer_fired_count"] for c in cases} == {1}
        assert {c.stage for c in cases} == {"informal"}
        # the dead worker's leased batch was fired by someone else, after its lease ran out
        assert len(orphan_firings) == len(orphans)
        assert all(f":{victim.pid}:" not in actor for actor in orphan_firings)
        assert not broken
    finally:
        services.db.dispose()
