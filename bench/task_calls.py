"""Where line 4's time goes: each `TaskService.claim` and `complete` call in process, one thread,
with its wall time and the number of SQL statements it sends.

    .venv/bin/python -m bench.task_calls                     # PostgreSQL (a fresh database) and SQLite
    .venv/bin/python -m bench.task_calls --backends sqlite --tasks 500

It starts `--tasks` cases of the test diagram `t_collect` (one call task each), then claims and
completes every task as a collector, and prints the median ms and statements per call.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select

from xinedai_workflow.auth.principal import Principal
from xinedai_workflow.cases.schemas import StartCase
from xinedai_workflow.db.models import HumanTask

from .env import Bundle, backend, make_workdir, pg_problem

SYSTEM = Principal(sub="bench-core", roles=frozenset({"system"}))
COLLECTOR = Principal(sub="bench-alice", roles=frozenset({"collector"}), groups=frozenset({"collectors"}))


def measure(kind: str, tasks: int) -> dict[str, tuple[float, float]]:
    """{call: (median ms, median statements)} for claim and complete on backend `kind`."""
    workdir = make_workdir()
    with backend(kind, Bundle.choose(workdir), workdir) as db:
        db.deploy_fixtures()
        services = db.services()
        statements = [0]

        def count(*_args: Any) -> None:
            statements[0] += 1

        event.listen(services.db.engine, "before_cursor_execute", count)
        for index in range(tasks):
            body = StartCase(
                process_key="t_collect",
                loan_id=f"TC-{index}-{uuid.uuid4().hex[:8]}",
                request_id=str(uuid.uuid4()),
                variables={"amount": "1200.00"},
            )
            services.cases.start(body, SYSTEM)
        with services.db.read() as session:
            task_ids = list(session.scalars(select(HumanTask.id).where(HumanTask.status == "open")))
        samples: dict[str, list[tuple[float, int]]] = {"claim": [], "complete": []}
        for task_id in task_ids:
            calls: dict[str, Callable[[], object]] = {
                "claim": lambda: services.tasks.claim(COLLECTOR, task_id),  # noqa: B023 - called at once
                "complete": lambda: services.tasks.complete(COLLECTOR, task_id, {"outcome": "refused"}),  # noqa: B023
            }
            for name, call in calls.items():
                before, began = statements[0], time.perf_counter()
                call()
                samples[name].append(((time.perf_counter() - began) * 1000, statements[0] - before))
        services.db.dispose()
    return {
        name: (statistics.median(s[0] for s in rows), statistics.median(s[1] for s in rows))
        for name, rows in samples.items()
    }


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    print(f"{'backend':<10} {'call':<9} {'median ms':>9} {'statements':>10}")
    for kind in args.backends.split(","):
        if kind == "postgres" and (problem := pg_problem()):
            print(f"{kind:<10} skipped: {problem}")
            continue
        for name, (ms, stmts) in measure(kind, args.tasks).items():
            print(f"{kind:<10} {name:<9} {ms:>9.2f} {stmts:>10.0f}")


if __name__ == "__main__":
    main()
