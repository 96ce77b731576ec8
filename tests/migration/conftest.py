"""Fixtures of the migration and batch tests: versions of the m_collect and m_fragile diagrams."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory

HERE = Path(__file__).resolve().parent / "diagrams"
COLLECTOR = {"sub": "alice", "groups": ["collectors"]}

Deploy = Callable[[str, str], int]


@pytest.fixture
def deploy(client: TestClient, auth: TokenFactory) -> Deploy:
    """`deploy("m_collect", "m_collect_v2.bpmn")` → the new version number of the key."""

    def run(key: str, file: str) -> int:
        content = (HERE / file).read_bytes()
        response = client.post(
            "/api/v1/definitions",
            headers=auth("compliance"),
            files=[("files", (f"{key}.bpmn", content, "application/octet-stream"))],
        )
        assert response.status_code == 201, response.text
        version: int = response.json()["versions"][key]
        return version

    return run


StartCase = Callable[..., str]


@pytest.fixture
def start(client: TestClient, auth: TokenFactory) -> StartCase:
    def run(key: str = "m_collect", loan_id: str | None = None, **variables: Any) -> str:
        loan_id = loan_id or f"L-{uuid.uuid4().hex[:10]}"
        body = {
            "process_key": key,
            "loan_id": loan_id,
            "request_id": str(uuid.uuid4()),
            "variables": {
                "borrower": {"id": f"B-{loan_id}", "phone": "13812345678", "timezone": "Asia/Shanghai"},
                **variables,
            },
        }
        response = client.post("/api/v1/cases", headers=auth("system"), json=body)
        assert response.status_code == 201, response.text
        case_id: str = response.json()["case_id"]
        return case_id

    return run


def case_view(client: TestClient, auth: TokenFactory, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history(client: TestClient, auth: TokenFactory, case_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case_id}/history?limit=200", headers=auth("admin"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def claim(client: TestClient, auth: TokenFactory, task_id: str) -> None:
    response = client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("collector", **COLLECTOR))
    assert response.status_code == 200, response.text


def complete(client: TestClient, auth: TokenFactory, task_id: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=auth("collector", **COLLECTOR), json={"data": {}}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def migrate(client: TestClient, auth: TokenFactory, case_id: str, to_version: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/migrate",
        headers=auth("compliance"),
        json={"to_version": to_version, **body},
    )
