"""Losing the database: a connection killed in the middle of a request answers 503 (and changes
nothing), the next request succeeds on a fresh connection; a database that does not answer at
all gives 503 everywhere, /health included."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.conftest import TEST_SECRET, diagram_files, overdue_event
from xinedai_workflow.app import create_app
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.bootstrap import Services, build_services
from xinedai_workflow.db.models import Case, IdempotencyKey
from xinedai_workflow.settings import Settings

pytestmark = pytest.mark.postgres


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        worker_enabled=False,
        default_process_key="t_collect",
        outbox_sink_dir=tmp_path / "outbox",
        database_pool_size=2,
    )


@pytest.fixture
def pg_services(pg_url: str, tmp_path: Path) -> Iterator[Services]:
    services = build_services(_settings(pg_url, tmp_path))
    yield services
    services.db.dispose()


def _headers(services: Services, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(services.settings, 'fault-user', list(roles))}"}


def _deploy(client: TestClient, services: Services) -> None:
    deployed = client.post(
        "/api/v1/definitions",
        headers=_headers(services, "compliance"),
        files=diagram_files("t_collect.bpmn", "t_route.dmn", "t_call_form.json"),
    )
    assert deployed.status_code == 201, deployed.text


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _waiting_backend(conn: psycopg.Connection[Any], database: str, timeout: float = 20) -> int:
    """The pid of the backend of `database` that waits for a lock (our request, mid-transaction)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,)
        ).fetchone()
        if pid is not None:
            return int(pid[0])
        time.sleep(0.01)
    raise AssertionError("the request never reached the locked table")


def test_connection_killed_mid_request_is_503_then_the_next_request_succeeds(
    pg_services: Services, pg_url: str
) -> None:
    system = _headers(pg_services, "system")
    database = make_url(pg_url).database
    assert database is not None
    with TestClient(create_app(services=pg_services, run_worker=False)) as client:
        _deploy(client, pg_services)
        assert client.post("/api/v1/events/overdue", headers=system, json=overdue_event()).status_code == 201

        event = overdue_event()
        answers: list[httpx.Response] = []
        # Hold the cases table so the request stops inside its transaction, at its INSERT.
        with (
            psycopg.connect(_libpq_url(pg_url), autocommit=True) as admin,
            psycopg.connect(_libpq_url(pg_url)) as locker,
        ):
            locker.execute("LOCK TABLE cases IN EXCLUSIVE MODE")
            request = threading.Thread(
                target=lambda: answers.append(
                    client.post("/api/v1/events/overdue", headers=system, json=event)
                )
            )
            request.start()
            backend_pid = _waiting_backend(admin, database)
            admin.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
            request.join(30)
            locker.rollback()

        assert len(answers) == 1
        lost = answers[0]
        assert lost.status_code == 503, lost.text
        assert lost.json()["error"]["code"] == "database_unavailable"
        with pg_services.db.read() as session:  # nothing of the failed request was stored
            assert session.get(IdempotencyKey, ("overdue", event["event_id"])) is None
            assert (
                session.scalar(select(func.count()).select_from(Case).where(Case.loan_id == event["loan_id"]))
                == 0
            )

        retried = client.post("/api/v1/events/overdue", headers=system, json=event)
        assert retried.status_code == 201, retried.text
        assert client.post("/api/v1/events/overdue", headers=system, json=overdue_event()).status_code == 201
        assert client.get("/health").json() == {"status": "ok", "database": "ok"}


def test_pooled_connections_killed_between_requests_are_replaced(pg_services: Services, pg_url: str) -> None:
    system = _headers(pg_services, "system")
    database = make_url(pg_url).database
    with TestClient(create_app(services=pg_services, run_worker=False)) as client:
        _deploy(client, pg_services)
        assert client.get("/api/v1/cases", headers=_headers(pg_services, "admin")).status_code == 200
        with psycopg.connect(_libpq_url(pg_url), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        for _ in range(3):
            assert client.get("/api/v1/cases", headers=_headers(pg_services, "admin")).status_code == 200
        answer = client.post("/api/v1/events/overdue", headers=system, json=overdue_event())
        assert answer.status_code == 201, answer.text


def test_unreachable_database_is_503_everywhere(tmp_path: Path) -> None:
    # a port nobody listens on: every connection attempt is refused at once
    services = build_services(
        _settings("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2", tmp_path)
    )
    try:
        with TestClient(create_app(services=services, run_worker=False)) as client:
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["database"] == "unreachable"
            for response in (
                client.post(
                    "/api/v1/events/overdue", headers=_headers(services, "system"), json=overdue_event()
                ),
                client.get("/api/v1/cases", headers=_headers(services, "admin")),
                client.get("/api/v1/tasks", headers=_headers(services, "admin")),
            ):
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "database_unavailable"
    finally:
        services.db.dispose()
