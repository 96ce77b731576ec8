"""Inbox benchmark: latency of a collector's inbox with 100,000 open tasks across 20 groups.

    .venv/bin/python -m bench.inbox                       # PostgreSQL at 127.0.0.1:5432 (default)
    .venv/bin/python -m bench.inbox --database-url sqlite:////tmp/inbox.db --tasks 20000
    .venv/bin/python -m bench.inbox --explain             # also print EXPLAIN ANALYZE of the query

The database (default: `xinedai_bench_inbox` on the local server, dropped and recreated) is
migrated, then seeded in bulk — PostgreSQL COPY, SQLite executemany, not through the engine —
with one case per open task, 20 groups of 10 collectors each, priorities 0–9, due dates spread
over ±10 days (a fifth without one), 30% of the tasks claimed, plus as many ended tasks as open
ones (the table keeps them). Each line measures one call of the service layer
(`TaskService.list` / `counts`, what `GET /api/v1/tasks` runs after authentication) or the whole
HTTP request through the ASGI app (token check, routing, JSON), and prints p50/p95/p99.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from xinedai_workflow.app import create_app
from xinedai_workflow.auth.principal import Principal
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.bootstrap import Services, build_services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HumanTask
from xinedai_workflow.db.models.cases import NO_DUE_DATE
from xinedai_workflow.db.schema_upgrade import upgrade_schema
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.settings import Settings
from xinedai_workflow.tasks.repository import open_tasks

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = [
    ROOT / "tests" / "diagrams" / name for name in ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")
]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/xinedai_bench_inbox"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SECRET = "bench-secret-" + "s" * 32
TARGET_P95_MS = 50.0


@dataclass(frozen=True)
class Result:
    name: str
    samples_ms: list[float]
    rows: int

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (PostgreSQL) or file (SQLite), then migrate."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
    upgrade_schema(url)


def _seed_rows(
    version_id: int, tasks: int, groups: int, seed: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(seed)
    for n in range(tasks * 2):
        is_open = n < tasks
        group = n % groups
        case_id, task_id = uuid.uuid4(), uuid.uuid4()
        created = NOW - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        due = (
            None
            if rng.random() < 0.2
            else NOW + timedelta(minutes=rng.randrange(-60 * 24 * 10, 60 * 24 * 10))
        )
        loan_id = f"L-{n:08d}"
        case = {
            "id": case_id,
            "loan_id": loan_id,
            "process_key": "t_collect",
            "process_version_id": version_id,
            "definition_version": 1,
            "status": "active" if is_open else "completed",
            "stage": "informal",
            "state": "{}",
            "variables": {"loan_id": loan_id},
            "history_seq": 0,
            "history_head": "",
            "lock_version": 1,
            "created_at": created,
            "updated_at": created,
            "created_by": "bench",
        }
        task = {
            "id": task_id,
            "case_id": case_id,
            "element_id": "call",
            "title": "Call the borrower",
            "lane": f"group-{group:02d}",
            "stage": "informal",
            "priority": rng.randrange(0, 10),
            "form_file": "t_call_form.json",
            "status": "open" if is_open else "completed",
            "assignee": f"user-{group:02d}-{rng.randrange(10)}" if rng.random() < 0.3 else None,
            "due_at": due,
            "due_sort": due or NO_DUE_DATE,
            "created_at": created,
            "ended_at": None if is_open else created + timedelta(hours=1),
            "loan_id": loan_id,
            "borrower_id": f"B-{n:08d}",
        }
        yield case, task


def _check_columns(model: Any, provided: Sequence[str]) -> None:
    required = [
        c.name
        for c in model.__table__.columns
        if not c.nullable
        and c.name not in provided
        and c.server_default is None
        and c.autoincrement is not True
    ]
    if required:
        raise SystemExit(f"{model.__tablename__}: the seed does not fill required columns {required}")


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


def seed(services: Services, tasks: int, groups: int, seed_value: int = 7) -> None:
    """Bulk-insert `tasks` open tasks (and as many ended ones), one case each."""
    services.definitions.deploy(read_bundle_dir(BUNDLE), "bench")
    with services.db.read() as session:
        version_id = session.execute(
            text("SELECT id FROM process_versions WHERE key = 't_collect' ORDER BY version DESC LIMIT 1")
        ).scalar_one()
    rows = list(_seed_rows(version_id, tasks, groups, seed_value))
    case_columns, task_columns = list(rows[0][0]), list(rows[0][1])
    _check_columns(Case, case_columns)
    _check_columns(HumanTask, task_columns)
    if services.db.is_sqlite:
        with services.db.write() as session:
            session.execute(Case.__table__.insert(), [c for c, _ in rows])
            session.execute(HumanTask.__table__.insert(), [t for _, t in rows])
            session.execute(text("ANALYZE"))
        return
    raw = services.db.engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            for table, columns, index in (("cases", case_columns, 0), ("human_tasks", task_columns, 1)):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([_copy_value(row[index][c]) for c in columns])
        raw.commit()
    finally:
        raw.close()
    with services.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))
        conn.execute(text("VACUUM ANALYZE human_tasks"))


def _time(call: Callable[[], int], iterations: int, warmup: int) -> tuple[list[float], int]:
    rows = 0
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        rows = call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, rows


def measure(services: Services, groups: int, iterations: int, warmup: int = 20) -> list[Result]:
    """Time the inbox calls a collector's workbench makes."""
    tasks = services.tasks
    alice = Principal("user-03-1", frozenset({"collector"}), frozenset({"group-03"}))
    sam = Principal("sam", frozenset({"supervisor"}), frozenset({f"group-{g:02d}" for g in range(3)}))
    auditor = Principal("audrey", frozenset({"auditor"}))

    def listing(principal: Principal, **filters: Any) -> Callable[[], int]:
        params = {
            "assigned": "any",
            "group": None,
            "case_id": None,
            "stage": None,
            "limit": 50,
            "cursor": None,
        }
        params.update(filters)
        return lambda: len(tasks.list(principal, **params)["items"])

    page = None
    for _ in range(10):  # the cursor of page 11
        page = tasks.list(
            alice,
            assigned="any",
            group=None,
            case_id=None,
            stage=None,
            limit=50,
            cursor=page and page["next_cursor"],
        )
    calls: list[tuple[str, Callable[[], int]]] = [
        ("collector inbox, 1 group, first page of 50", listing(alice)),
        ("collector inbox, unassigned", listing(alice, assigned="unassigned")),
        ("collector inbox, assigned to me", listing(alice, assigned="me")),
        ("collector inbox, page 11 (cursor)", listing(alice, cursor=page and page["next_cursor"])),
        ("collector badge counts", lambda: len(tasks.counts(alice)["by_group"])),
        ("supervisor inbox, 3 groups", listing(sam)),
        ("auditor inbox, all groups", listing(auditor)),
    ]
    results = [Result(name, *_time(call, iterations, warmup)) for name, call in calls]

    token = mint_token(services.settings, alice.sub, ["collector"], ["group-03"])
    with TestClient(create_app(services=services, run_worker=False)) as http:
        headers = {"Authorization": f"Bearer {token}"}

        def over_http() -> int:
            response = http.get("/api/v1/tasks", headers=headers)
            response.raise_for_status()
            return len(response.json()["items"])

        results.append(
            Result("GET /api/v1/tasks over HTTP (ASGI, token, JSON)", *_time(over_http, iterations, warmup))
        )
    return results


def explain(services: Services) -> str:
    """EXPLAIN ANALYZE of the collector's first inbox page."""
    alice = Principal("user-03-1", frozenset({"collector"}), frozenset({"group-03"}))
    statement = open_tasks(alice, "any", None, None, None).limit(51)  # the service's exact query
    with services.db.read() as session:
        compiled = statement.compile(session.bind, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN ANALYZE " if not services.db.is_sqlite else "EXPLAIN QUERY PLAN "
        lines = session.execute(text(prefix + str(compiled))).all()
    return "\n".join(" | ".join(str(v) for v in line) for line in lines)


def report(results: list[Result], tasks: int, groups: int, backend: str) -> str:
    header = f"inbox benchmark: {tasks:,} open tasks (+{tasks:,} ended) across {groups} groups on {backend}"
    lines = [header, "", f"{'query':<52} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    for r in results:
        lines.append(
            f"{r.name:<52} {r.rows:>5} {statistics.median(r.samples_ms):>8.2f} {r.pct(95):>8.2f} "
            f"{r.pct(99):>8.2f} {max(r.samples_ms):>8.2f}"
        )
    first = results[0]
    verdict = "met" if first.pct(95) <= TARGET_P95_MS else "MISSED"
    lines += [
        "",
        f"target: collector inbox p95 <= {TARGET_P95_MS:.0f} ms — {verdict} ({first.pct(95):.2f} ms)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help="dropped and recreated!")
    parser.add_argument(
        "--tasks", type=int, default=100_000, help="open tasks (as many ended ones are added)"
    )
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--explain", action="store_true", help="print the query plan of the first line")
    args = parser.parse_args(argv)

    recreate_database(args.database_url)
    settings = Settings(database_url=args.database_url, jwt_secret=SECRET, worker_enabled=False)
    services = build_services(settings, ManualClock(NOW))
    try:
        started = time.perf_counter()
        seed(services, args.tasks, args.groups)
        print(f"seeded {args.tasks * 2:,} tasks and cases in {time.perf_counter() - started:.1f} s")
        if args.explain:
            print(explain(services), end="\n\n")
        results = measure(services, args.groups, args.iterations)
        print(report(results, args.tasks, args.groups, services.db.dialect))
    finally:
        services.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
