"""Shared fixtures: a real database (SQLite and PostgreSQL), the service graph with a manual clock,
an HTTP client against the ASGI app, tokens, and the test diagrams.

Every test that takes `services`, `client` or `database_url` runs once per backend. PostgreSQL
tests are mandatory when CI=true; elsewhere they skip with a message when no server answers.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from xinedai_workflow.app import create_app
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.bootstrap import Services, build_services, build_worker
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.base import Base
from xinedai_workflow.db.schema_upgrade import upgrade_schema
from xinedai_workflow.settings import Settings
from xinedai_workflow.worker.runner import Worker

ROOT = Path(__file__).resolve().parents[1]
DIAGRAMS = Path(__file__).resolve().parent / "diagrams"
PROCESSES = ROOT / "processes"
TEST_SECRET = "test-secret-" + "k" * 32
PG_ADMIN_URL = os.environ.get("XINEDAI_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_schema(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[str]:
    """A migrated PostgreSQL database of this test worker (dropped at the end)."""
    problem = _pg_available()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true needs PostgreSQL at {PG_ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({problem}); PostgreSQL tests skipped")
    name = f"xinedai_test_{worker_id}_{os.getpid()}".lower()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    upgrade_schema(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database")
    _truncate(url)
    yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        worker_enabled=False,
        outbox_sink_dir=tmp_path / "outbox",
        bureau_export_dir=tmp_path / "bureau",
        anchor_dir=tmp_path / "anchors",
        anchor_key_file=tmp_path / "anchor-key.pem",
        processes_dir=PROCESSES,
        default_process_key="t_collect",
        script_time_limit_seconds=0.5,
        database_pool_size=5,
    )


@pytest.fixture
def services(settings: Settings, clock: ManualClock) -> Iterator[Services]:
    built = build_services(settings, clock)
    yield built
    built.db.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services, run_worker=False)) as test_client:
        yield test_client


@pytest.fixture
def worker(services: Services) -> Worker:
    return build_worker(services, name="test-worker")


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def auth(settings: Settings) -> TokenFactory:
    """`auth("collector", groups=["collectors"], sub="alice")` → an Authorization header."""

    def make(*roles: str, groups: tuple[str, ...] | list[str] = (), sub: str | None = None) -> dict[str, str]:
        token = mint_token(settings, sub or f"{roles[0]}-user", list(roles), list(groups))
        return {"Authorization": f"Bearer {token}"}

    return make


def diagram_files(*names: str, directory: Path = DIAGRAMS) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart `files` parts for the named fixture diagrams."""
    return [("files", (name, (directory / name).read_bytes(), "application/octet-stream")) for name in names]


T_COLLECT = ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")


@pytest.fixture
def deployed(client: TestClient, auth: TokenFactory) -> dict[str, Any]:
    """The t_collect test bundle, deployed."""
    response = client.post("/api/v1/definitions", headers=auth("compliance"), files=diagram_files(*T_COLLECT))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def overdue_event(loan_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid overdue event body."""
    loan_id = loan_id or f"L-{uuid.uuid4().hex[:10]}"
    event = {
        "event_id": str(uuid.uuid4()),
        "loan_id": loan_id,
        "product": "xinedai",
        "borrower": {
            "id": f"B-{loan_id}",
            "name": "王小明",
            "phone": "13812345678",
            "email": "wxm@example.com",
            "address": "北京市朝阳区建国路1号",
            "timezone": "Asia/Shanghai",
        },
        "principal": "50000.00",
        "overdue_principal": "2100.00",
        "overdue_interest": "262.50",
        "annual_rate": "0.063",
        "days_past_due": 5,
        "due_date": "2026-02-25",
        "occurred_at": "2026-03-02T09:00:00+08:00",
    }
    event.update(overrides)
    return event


def complete_named_task(client: TestClient, auth: TokenFactory, case_id: str, name: str) -> None:
    """Claim and complete (with no data) the case's open task called `name`, as an admin worker."""
    worker = auth("admin", groups=["collectors", "supervisors"], sub="ada")
    tasks = client.get(f"/api/v1/tasks?case_id={case_id}", headers=worker).json()["items"]
    task = next(t for t in tasks if t["name"] == name)
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=worker).status_code == 200
    done = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=worker, json={"data": {}})
    assert done.status_code == 200, done.text


def start_case(client: TestClient, auth: TokenFactory, key: str = "t_collect", **variables: Any) -> str:
    loan_id = variables.pop("loan_id", f"L-{uuid.uuid4().hex[:10]}")
    body = {
        "process_key": key,
        "loan_id": loan_id,
        "request_id": str(uuid.uuid4()),
        "variables": {"amount": "1200.00", **variables},
    }
    response = client.post("/api/v1/cases", headers=auth("system"), json=body)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id
