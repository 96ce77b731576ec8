"""Shared helpers of the inbox, history and authorization tests: the lanes bundles, a case with a
borrower's figures, a real uvicorn server in a thread, and direct database access."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.conftest import TokenFactory, diagram_files
from xinedai_workflow.app import create_app
from xinedai_workflow.bootstrap import Services

LANES_DIAGRAMS = Path(__file__).resolve().parent / "diagrams"

BORROWER = {
    "id": "B-0001",
    "name": "王小明",
    "phone": "13812345678",
    "email": "wxm@example.com",
    "address": "北京市朝阳区建国路1号",
    "id_number": "110101199001011234",
    "timezone": "Asia/Shanghai",
}
LOAN_FIGURES = {
    "principal": "50000.00",
    "overdue_principal": "2100.00",
    "overdue_interest": "262.50",
    "annual_rate": "0.063",
    "due_date": "2026-02-25",
    "days_past_due": 5,
}
COLLECTOR = {"sub": "alice", "groups": ["collectors"]}


def deploy_lanes(client: TestClient, auth: TokenFactory) -> None:
    """Deploy t_lanes (collectors call + legal review) and t_legal_only."""
    for files in (("t_lanes.bpmn", "t_lanes_call.json"), ("t_legal_only.bpmn",)):
        response = client.post(
            "/api/v1/definitions",
            headers=auth("compliance"),
            files=diagram_files(*files, directory=LANES_DIAGRAMS),
        )
        assert response.status_code in (200, 201), response.text


def start(client: TestClient, auth: TokenFactory, key: str = "t_lanes", **variables: Any) -> str:
    """Start `key` with a borrower and the loan's figures; returns the case id."""
    loan_id = variables.pop("loan_id", f"L-{uuid.uuid4().hex[:10]}")
    body = {
        "process_key": key,
        "loan_id": loan_id,
        "request_id": str(uuid.uuid4()),
        "variables": {"borrower": dict(BORROWER), **LOAN_FIGURES, **variables},
    }
    response = client.post("/api/v1/cases", headers=auth("system"), json=body)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def open_task(client: TestClient, auth: TokenFactory, case_id: str, name: str) -> dict[str, Any]:
    """The open task `name` of a case, read as admin."""
    view = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()
    matches = [t for t in view["open_tasks"] if t["name"] == name]
    assert matches, f"no open task {name} in {view['open_tasks']}"
    task: dict[str, Any] = matches[0]
    return task


def collector(auth: TokenFactory, sub: str = "alice") -> dict[str, str]:
    return auth("collector", groups=["collectors"], sub=sub)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(services: Services) -> Iterator[str]:
    """The real app behind a real uvicorn in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(services=services, run_worker=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def dba_connection(database_url: str) -> Iterator[Any]:
    """A raw connection as the database owner would use it (outside the service)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def without_append_only_guard(conn: Any, table: str) -> None:
    """What a DBA would do to edit an append-only table: switch its trigger off (this transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    else:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))


def restore_append_only_guard(conn: Any, table: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        return
    for verb in ("UPDATE", "DELETE"):
        conn.execute(
            text(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )
        )
