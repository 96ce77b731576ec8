"""Line 5 (due timers fired by 1 and by 2 `xinedai-workflow worker` processes) and line 8 (the
workers' peak memory)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.bulk import insert_new_in_bulk
from xinedai_workflow.db.models import Case, HistoryEntry, Timer

from .env import Backend, WorkerProcess

SEED_CHUNK = 500


def seed_due_timers(services: Services, count: int, prefix: str) -> None:
    """`count` b_timer cases started two hours ago through the runtime, so their one-hour timers
    are due now (rows written in bulk, as the batch endpoint writes them)."""
    assert isinstance(services.clock, ManualClock)
    with services.db.read() as session:
        definition = services.registry.latest(session, "b_timer")
    for start in range(0, count, SEED_CHUNK):
        with services.db.write() as session:
            for index in range(start, min(count, start + SEED_CHUNK)):
                loan_id = f"{prefix}-{index}"
                variables = {"loan_id": loan_id, "timer_fired_count": 0}
                services.runtime.open(
                    session, definition, loan_id, variables, "bench", services.clock.now(), flush=False
                )
            insert_new_in_bulk(session)


def _remaining(services: Services, prefix: str) -> int:
    with services.db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Timer)
                .join(Case, Case.id == Timer.case_id)
                .where(Case.loan_id.like(f"{prefix}-%"))
            )
            or 0
        )


def _fired(services: Services, prefix: str) -> tuple[int, datetime | None]:
    with services.db.read() as session:
        count, first = session.execute(
            select(func.count(), func.min(HistoryEntry.at))
            .join(Case, Case.id == HistoryEntry.case_id)
            .where(Case.loan_id.like(f"{prefix}-%"), HistoryEntry.action == "timer_fired")
        ).one()
    if isinstance(first, datetime) and first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return int(count), first


def fire_timers(backend: Backend, count: int, workers: int, timeout: float = 600) -> dict[str, float]:
    """Seed `count` due timers, start `workers` worker processes and wait until every timer fired.
    The rate runs from the first firing (so process start-up is not counted) to the moment the
    last timer row is gone; each worker's peak RSS is read before it stops."""
    prefix = f"TMR{workers}-{uuid.uuid4().hex[:6]}"
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=2))
    services = backend.services(clock)
    try:
        seed_due_timers(services, count, prefix)
        processes = [
            WorkerProcess(backend, XINEDAI_WORKER_POLL_SECONDS="0.05").start() for _ in range(workers)
        ]
        try:
            deadline = time.monotonic() + timeout
            while _remaining(services, prefix) and time.monotonic() < deadline:
                time.sleep(0.02)
            done_at = datetime.now(UTC)
            peak = max(process.peak_rss_mb() for process in processes)
        finally:
            for process in processes:
                process.stop()
        fired, first = _fired(services, prefix)
        if fired != count or first is None:
            raise RuntimeError(f"{fired} of {count} timers fired (see {backend.workdir}/worker-*.log)")
        elapsed = (done_at - first).total_seconds()
        return {"rate": count / elapsed, "peak_rss_mb": peak}
    finally:
        services.db.dispose()
