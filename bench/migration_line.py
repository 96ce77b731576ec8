"""The migration line: a batch of 10,000 running cases moved to a new diagram version by two
`xinedai-workflow worker` processes on PostgreSQL, in cases/s and as a ratio to line 1 (the
engine ceiling: start to the first wait state plus dump, in process, one core).

    .venv/bin/python -m bench.migration_line                 # 10,000 cases, PostgreSQL
    .venv/bin/python -m bench.migration_line --cases 2000 --workers 1

The cases run `m_collect` v1 (tests/migration/diagrams) and wait at the call task; version 2 adds
a reminder SMS before the call (the issue's example). Each case is loaded, diffed against the new
version (the spec diff is computed once per version pair), moved, and saved with its derived rows
and a `case_migrated` history entry in its own transaction. The rate runs from the first case
moved to the last (worker start-up not counted); the wall time from the batch's creation is
printed too. The database `xinedai_bench_migration` is dropped and recreated.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from xinedai_workflow.auth.principal import Principal
from xinedai_workflow.batches.schemas import BatchFilter, CreateBatch
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.bulk import insert_new_in_bulk
from xinedai_workflow.db.models import BatchItem, Case
from xinedai_workflow.db.schema_upgrade import upgrade_schema
from xinedai_workflow.definitions.service import read_bundle_dir

from . import engine_lines
from .env import PG_ADMIN_URL, ROOT, Backend, Bundle, WorkerProcess, make_workdir, pg_problem

DIAGRAMS = ROOT / "tests" / "migration" / "diagrams"
DATABASE = "xinedai_bench_migration"
SEED_CHUNK = 500
OPERATOR = Principal(sub="bench", roles=frozenset({"admin"}))


@contextmanager
def postgres(bundle: Bundle, workdir: Path) -> Iterator[Backend]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{DATABASE}"
    upgrade_schema(url)
    try:
        yield Backend("PostgreSQL", url, workdir, bundle)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def deploy(services: Services, file: str) -> int:
    directory = services.settings.outbox_sink_dir.parent / f"bundle-{file}"
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(DIAGRAMS / file, directory / "m_collect.bpmn")
    return services.definitions.deploy(read_bundle_dir([directory]), "bench").versions["m_collect"]


def seed(services: Services, count: int) -> None:
    """`count` m_collect v1 cases waiting at the call task (rows written in bulk)."""
    with services.db.read() as session:
        definition = services.registry.latest(session, "m_collect")
    for start in range(0, count, SEED_CHUNK):
        with services.db.write() as session:
            for index in range(start, min(count, start + SEED_CHUNK)):
                loan_id = f"MIG-{index}"
                variables = {"loan_id": loan_id, "borrower": {"id": f"B-{index}", "phone": "13800000000"}}
                services.runtime.open(
                    session, definition, loan_id, variables, "bench", services.clock.now(), flush=False
                )
            insert_new_in_bulk(session)


def migrate_batch(backend: Backend, cases: int, workers: int, timeout: float = 1800) -> dict[str, float]:
    services = backend.services(ManualClock(datetime.now(UTC)))
    try:
        assert deploy(services, "m_collect_v1.bpmn") == 1
        seed(services, cases)
        assert deploy(services, "m_collect_v2.bpmn") == 2
        processes = [
            WorkerProcess(backend, XINEDAI_WORKER_POLL_SECONDS="0.05").start() for _ in range(workers)
        ]
        try:
            time.sleep(3)  # let the workers start before the batch exists
            created_at = time.monotonic()
            body = CreateBatch(
                operation="migrate",
                filter=BatchFilter(process_key="m_collect", version=1),
                params={"to_version": 2},
                request_id=str(uuid.uuid4()),
            )
            batch_id = uuid.UUID(services.batches.create(OPERATOR, body).body["batch_id"])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                view = services.batches.get(OPERATOR, batch_id)
                if view["status"] == "completed":
                    break
                time.sleep(0.2)
            wall = time.monotonic() - created_at
        finally:
            for process in processes:
                process.stop()
        with services.db.read() as session:
            first, last, done = session.execute(
                select(func.min(BatchItem.finished_at), func.max(BatchItem.finished_at), func.count()).where(
                    BatchItem.batch_id == batch_id, BatchItem.status == "done"
                )
            ).one()
            moved = session.scalar(select(func.count()).select_from(Case).where(Case.definition_version == 2))
        view = services.batches.get(OPERATOR, batch_id)
        span = (last - first).total_seconds() if first is not None and last is not None else float("nan")
        return {
            "cases": float(cases),
            "done": float(done),
            "failed": float(view["failed"]),
            "moved": float(moved or 0),
            "rate": done / span if span and span > 0 else float("nan"),
            "wall_rate": done / wall if wall > 0 else float("nan"),
            "wall_seconds": wall,
        }
    finally:
        services.db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migration_line", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--diagram", choices=("auto", "xinedai_overdue", "t_collect"), default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    problem = pg_problem()
    if problem is not None:
        raise SystemExit(f"no PostgreSQL at {PG_ADMIN_URL}: {problem}")
    workdir = make_workdir()
    try:
        bundle = Bundle.choose(workdir, args.diagram)
        ceiling, _plain = engine_lines.engine_ceiling(bundle, workdir)
        with postgres(bundle, workdir) as backend:
            result = migrate_batch(backend, args.cases, args.workers)
        ratio = result["rate"] / ceiling if ceiling else float("nan")
        print(f"line 1 (engine ceiling, {bundle.note}): {ceiling:,.0f} cases/s")
        print(
            f"migration batch, PostgreSQL, {args.workers} workers: {result['done']:,.0f} of "
            f"{args.cases:,} cases moved ({result['failed']:,.0f} failed, {result['moved']:,.0f} on v2), "
            f"{result['rate']:,.0f} cases/s = {ratio:.0%} of line 1 "
            f"(wall {result['wall_seconds']:.1f} s from batch creation: {result['wall_rate']:,.0f} cases/s)"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
