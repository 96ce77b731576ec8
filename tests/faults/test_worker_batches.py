"""The worker fires a leased batch of due timers in one transaction; when the batch loses a race
(or fails in any other way) it falls back to one transaction per case, and still every timer
fires exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm.exc import StaleDataError

from tests.faults.test_worker_crash import seed_due_timers
from xinedai_workflow.bootstrap import build_services, build_worker
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import HistoryEntry, Timer
from xinedai_workflow.settings import Settings


@pytest.mark.parametrize("failure", [StaleDataError("lost a race"), RuntimeError("a bug in one case")])
def test_a_failed_batch_is_fired_one_case_at_a_time(
    database_url: str, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    settings = Settings(
        database_url=database_url, jwt_secret="x" * 32, worker_enabled=False, worker_batch_size=50
    )
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=2))
    services = build_services(settings, clock)
    try:
        seed_due_timers(services, 30)
        clock.advance(timedelta(hours=2))
        batch = services.runtime.fire_timers_of
        calls: list[int] = []

        def failing_once(*args: Any, **kwargs: Any) -> int:
            calls.append(1)
            if len(calls) == 1:
                raise failure
            return batch(*args, **kwargs)

        monkeypatch.setattr(services.runtime, "fire_timers_of", failing_once)
        worker = build_worker(services, name="batch-test")
        assert worker.fire_due_timers() == 30
        assert worker.fire_due_timers() == 0
        with services.db.read() as session:
            per_case = session.execute(
                select(HistoryEntry.case_id, func.count())
                .where(HistoryEntry.action == "timer_fired")
                .group_by(HistoryEntry.case_id)
            ).all()
            assert len(per_case) == 30 and {n for _, n in per_case} == {1}
            assert session.scalar(select(func.count()).select_from(Timer)) == 0
    finally:
        services.db.dispose()


def test_a_batch_fires_many_cases_in_one_transaction(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, jwt_secret="x" * 32, worker_enabled=False, worker_batch_size=100
    )
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=2))
    services = build_services(settings, clock)
    commits: list[int] = []
    try:
        seed_due_timers(services, 250)
        clock.advance(timedelta(hours=2))
        worker = build_worker(services, name="batch-test")
        event.listen(services.db.engine, "commit", lambda _conn: commits.append(1))
        assert [worker.fire_due_timers() for _ in range(4)] == [100, 100, 50, 0]
        assert len(commits) == 3 * 2 + 1  # per batch: the lease, then all its cases; then an empty lease
        with services.db.read() as session:
            actions = session.scalars(select(HistoryEntry.action)).all()
        assert actions.count("timer_fired") == 250 and actions.count("task_created") == 250
    finally:
        services.db.dispose()
