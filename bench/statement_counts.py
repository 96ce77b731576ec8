"""SQL statements per call, counted with SQLAlchemy's `before_cursor_execute` on the engine of the
services the calls run on. The HTTP lines run in a `serve` process the bench cannot hook into, so
their calls are made here in process through the same services (the routers are thin: the SQL of
a request is the SQL of its service call).

    .venv/bin/python -m bench.statement_counts --backends sqlite,postgres --calls 20

Transaction control (BEGIN, COMMIT, ROLLBACK; SQLite's `BEGIN IMMEDIATE`) is not counted, as in
`tests/tasks/test_statement_counts.py`.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select

from xinedai_workflow.auth.principal import Principal
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.cases.schemas import StartCase
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HumanTask
from xinedai_workflow.events.schemas import OverdueEvent
from xinedai_workflow.worker.leases import lease_due_outbox
from xinedai_workflow.worker.runner import Worker

from .env import Backend, Bundle, backend, make_workdir, median, overdue_event, pg_problem

SYSTEM = Principal(sub="bench-core", roles=frozenset({"system"}))
COLLECTOR = Principal(sub="bench-alice", roles=frozenset({"collector"}), groups=frozenset({"collectors"}))
# the issue-19 floors: a claim in 3 statements, a completion in 7
FLOORS = {"claim": 3, "complete": 7, "claim_one": 3, "complete_one": 7}
CALLS = {
    "start_one": "start, one-task diagram (POST /cases)",
    "overdue_one": "overdue event, one-task diagram (line 2, 2nd column)",
    "overdue": "overdue event, default process (line 2)",
    "batch": "overdue:batch, per event, default process (line 3)",
    "claim": "claim, t_collect call task (line 4)",
    "complete": "complete, t_collect call task (line 4)",
    "claim_one": "claim, one-task diagram (line 4, 2nd column)",
    "complete_one": "complete, one-task diagram (line 4, 2nd column)",
    "timer": "per timer fired, b_timer, worker batch (line 5)",
    "outbox": "per outbox row sent or held, rows of default-process starts",
}


class Counter:
    """Statements sent on `engine` since the last `take()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sent = 0

    def _note(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.sent += 1

    def take(self) -> int:
        sent, self.sent = self.sent, 0
        return sent

    @contextmanager
    def listening(self) -> Iterator[Counter]:
        event.listen(self.engine, "before_cursor_execute", self._note)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._note)


def _per_call(counter: Counter, calls: list[Callable[[], object]]) -> float:
    """The median statements of one call."""
    samples = []
    for call in calls:
        counter.take()
        call()
        samples.append(float(counter.take()))
    return median(samples)


def _open_tasks(
    services: Services, process_key: str, count: int, variables: dict[str, Any]
) -> list[uuid.UUID]:
    """Start `count` cases of `process_key` and return their open tasks."""
    loan_ids = []
    for _ in range(count):
        loan_id = f"SC-{uuid.uuid4().hex[:12]}"
        body = StartCase(
            process_key=process_key, loan_id=loan_id, request_id=str(uuid.uuid4()), variables=variables
        )
        services.cases.start(body, SYSTEM)
        loan_ids.append(loan_id)
    with services.db.read() as session:
        return list(
            session.scalars(
                select(HumanTask.id)
                .join(Case, Case.id == HumanTask.case_id)
                .where(Case.loan_id.in_(loan_ids), HumanTask.status == "open")
            )
        )


def _tasks(
    services: Services, counter: Counter, key: str, task_ids: list[uuid.UUID], data: dict[str, Any]
) -> dict[str, float]:
    claims = [lambda t=t: services.tasks.claim(COLLECTOR, t) for t in task_ids]
    completes = [lambda t=t: services.tasks.complete(COLLECTOR, t, data) for t in task_ids]
    return {f"claim{key}": _per_call(counter, claims), f"complete{key}": _per_call(counter, completes)}


def _timers(db: Backend, count: int) -> float:
    """Statements per timer fired by one in-process worker, leasing and firing in its batches."""
    from .timer_lines import seed_due_timers

    clock = ManualClock(datetime.now(UTC) - timedelta(hours=2))
    services = db.services(clock)
    try:
        seed_due_timers(services, count, f"SCT-{uuid.uuid4().hex[:6]}")
        clock.advance(timedelta(hours=2, minutes=1))
        worker = Worker(services.worker_parts())
        fired = 0
        with Counter(services.db.engine).listening() as counter:
            while fired < count:
                batch = worker.fire_due_timers()
                if not batch:
                    raise RuntimeError(f"{fired} of {count} due timers fired")
                fired += batch
        return counter.take() / fired
    finally:
        services.db.dispose()


def _outbox(services: Services, counter: Counter) -> float | None:
    """Statements per outbox row the worker leases and dispatches (sent, or held by the contact
    policy), over the rows the default process's starts above queued; None if they queued none."""
    worker = Worker(services.worker_parts())
    counter.take()
    handled = 0
    while True:
        ids = services.uow.write(
            lambda s: lease_due_outbox(s, "bench", services.clock.now(), 100, timedelta(minutes=1))
        )
        if not ids:
            break
        for message_id in ids:
            worker.outbox.dispatch(message_id)
        handled += len(ids)
    return counter.take() / handled if handled else None


def measure(db: Backend, one: Bundle, calls: int) -> dict[str, float | None]:
    """{call: median statements per call} (None where the call does not happen on this diagram)."""
    out: dict[str, float | None] = dict.fromkeys(CALLS)
    db.deploy_default()
    services = db.services()
    one_services = replace(db, bundle=one).services()
    try:
        counter = Counter(services.db.engine)
        one_counter = Counter(one_services.db.engine)
        with counter.listening(), one_counter.listening():
            starts = [
                lambda: one_services.cases.start(
                    StartCase(
                        process_key="b_one",
                        loan_id=f"SO-{uuid.uuid4().hex[:12]}",
                        request_id=str(uuid.uuid4()),
                    ),
                    SYSTEM,
                )
                for _ in range(calls)
            ]
            out["start_one"] = _per_call(one_counter, starts)
            events = [OverdueEvent.model_validate(overdue_event()) for _ in range(2 * calls)]
            out["overdue_one"] = _per_call(
                one_counter, [lambda e=e: one_services.events.overdue(e, "bench") for e in events[:calls]]
            )
            out["overdue"] = _per_call(
                counter, [lambda e=e: services.events.overdue(e, "bench") for e in events[calls:]]
            )
            batch = [overdue_event() for _ in range(max(calls, 50))]
            counter.take()
            services.events.overdue_batch(batch, "bench")
            out["batch"] = counter.take() / len(batch)
            collect = _open_tasks(services, "t_collect", calls, {"amount": "1200.00"})
            out.update(_tasks(services, counter, "", collect, {"outcome": "refused"}))
            one_tasks = _open_tasks(one_services, "b_one", calls, {})
            out.update(_tasks(one_services, one_counter, "_one", one_tasks, {}))
            out["outbox"] = _outbox(services, counter)
    finally:
        services.db.dispose()
        one_services.db.dispose()
    out["timer"] = _timers(db, max(calls, 100))
    return out


def render(by_backend: dict[str, dict[str, float | None]]) -> str:
    """The counts as a table: one row per call, one column per backend, the floors beside."""
    names = list(by_backend)
    label_width = max(len(label) for label in CALLS.values())
    head = f"{'SQL statements per call (in process)':<{label_width}}  {'floor':>5}"
    head += "".join(f"  {n:>10}" for n in names)
    out = [head, "-" * len(head)]
    for key, label in CALLS.items():
        floor = FLOORS.get(key)
        row = f"{label:<{label_width}}  {('≤ ' + str(floor)) if floor else '':>5}"
        for name in names:
            value = by_backend[name].get(key)
            cell = "n/a" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")
            if floor is not None and value is not None:
                cell += " ✓" if value <= floor else " ✗"
            row += f"  {cell:>10}"
        out.append(row)
    return "\n".join(out)


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m bench.statement_counts", description=__doc__, formatter_class=raw
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--calls", type=int, default=20, help="calls per kind (medians)")
    args = parser.parse_args()
    by_backend: dict[str, dict[str, float | None]] = {}
    for kind in args.backends.split(","):
        if kind == "postgres" and (problem := pg_problem()):
            print(f"{kind}: skipped: {problem}")
            continue
        workdir = make_workdir()
        with backend(kind, Bundle.choose(workdir), workdir) as db:
            db.deploy_fixtures()
            by_backend[db.name] = measure(db, Bundle.one_task(workdir), args.calls)
    print(render(by_backend))


if __name__ == "__main__":
    main()
