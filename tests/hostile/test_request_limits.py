"""Request bodies above the configured size get 413 (declared or streamed), and deeply nested
JSON is refused with a 4xx — never a 5xx, never a stored change."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import TokenFactory, overdue_event
from xinedai_workflow.app import create_app
from xinedai_workflow.bootstrap import Services, build_services
from xinedai_workflow.db.models import Case, IdempotencyKey
from xinedai_workflow.settings import Settings

LIMIT = 64 * 1024


@pytest.fixture
def small_limit_client(settings: Settings) -> Iterator[tuple[TestClient, Services]]:
    services = build_services(settings.model_copy(update={"max_body_bytes": LIMIT}))
    with TestClient(create_app(services=services, run_worker=False)) as client:
        yield client, services
    services.db.dispose()


def _stored(services: Services) -> int:
    with services.db.read() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        keys = session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0
        return int(cases + keys)


def _batch_body(size: int) -> bytes:
    events = []
    body = b""
    while len(body) <= size:
        events.append(overdue_event())
        body = json.dumps({"events": events}).encode()
    return body


def _assert_413(response: Any) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_over_the_configured_size_is_413(
    small_limit_client: tuple[TestClient, Services], auth: TokenFactory
) -> None:
    client, services = small_limit_client
    headers = {**auth("system"), "Content-Type": "application/json"}
    body = _batch_body(LIMIT + 1)
    _assert_413(client.post("/api/v1/events/overdue:batch", headers=headers, content=body))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while streaming
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    _assert_413(client.post("/api/v1/events/overdue:batch", headers=headers, content=chunks()))
    files = [("files", ("big.bpmn", b"<a/>" + b" " * LIMIT, "application/xml"))]
    _assert_413(client.post("/api/v1/definitions", headers=auth("compliance"), files=files))
    assert _stored(services) == 0

    small = _batch_body(LIMIT // 4)
    answer = client.post("/api/v1/events/overdue:batch", headers=headers, content=small)
    assert answer.status_code == 200, answer.text  # under the limit it is read (404s: nothing deployed)


def test_the_default_limit_is_twenty_mebibytes(client: TestClient, auth: TokenFactory) -> None:
    body = b'{"events": [' + b" " * (20 * 1024 * 1024) + b"]}"
    began = time.perf_counter()
    _assert_413(client.post("/api/v1/events/overdue:batch", headers=auth("system"), content=body))
    assert time.perf_counter() - began < 10  # refused early; the width is for a loaded CI machine


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_json_nested_past_the_allowed_depth_is_422(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    message = {
        "message_id": str(uuid.uuid4()),
        "name": "promise_to_pay",
        "correlation": {"loan_id": "L-1"},
        "payload": _nested(40),
        "ttl_seconds": 60,
    }
    response = client.post("/api/v1/messages", headers=auth("system"), json=message)
    assert response.status_code == 422, response.text
    assert "nested deeper" in json.dumps(response.json()["error"]["details"])
    assert _stored(services) == 0


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_pathologically_deep_json_is_refused_quickly_without_a_5xx(
    client: TestClient, auth: TokenFactory, services: Services, depth: int
) -> None:
    body = (
        '{"message_id": "m-1", "name": "x", "correlation": {"loan_id": "L-1"}, "payload": '
        + '{"a": ' * depth
        + "1"
        + "}" * depth
        + "}"
    )
    began = time.perf_counter()
    for path in ("/api/v1/messages", "/api/v1/events/overdue", "/api/v1/events/overdue:batch"):
        response = client.post(
            path, headers={**auth("system"), "Content-Type": "application/json"}, content=body
        )
        assert response.status_code in (400, 422), (path, response.status_code, response.text[:300])
        assert response.json()["error"]["code"]
    assert time.perf_counter() - began < 10  # refused early; the width is for a loaded CI machine
    assert _stored(services) == 0


def test_deep_json_inside_a_batch_event_is_that_events_422(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    events = [overdue_event(), {**overdue_event(), "borrower": _nested(200)}]
    response = client.post("/api/v1/events/overdue:batch", headers=auth("system"), json={"events": events})
    assert response.status_code == 200, response.text
    assert [r["http_status"] for r in response.json()["results"]] == [201, 422]
