"""Free-form JSON (case variables, message payloads, form data) must not smuggle in the engine
serializer's type tags: a stored {"typename": "UUID", "value": "x"} would be read back as a
typed value (or break every later load of the case)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory

SMUGGLED = [
    {"typename": "UUID", "value": "not-a-uuid"},
    {"typename": "Decimal", "value": "NaN"},
    {"typename": "Task", "id": "x"},
    [{"nested": {"typename": "datetime", "value": "2026-01-01"}}],
]


@pytest.mark.parametrize("value", SMUGGLED)
def test_type_tags_in_case_variables_are_422(
    client: TestClient, auth: TokenFactory, deployed: Any, value: Any
) -> None:
    body = {
        "process_key": "t_collect",
        "loan_id": "L-TAG",
        "request_id": str(uuid.uuid4()),
        "variables": {"amount": "1.00", "note": value},
    }
    response = client.post("/api/v1/cases", headers=auth("system"), json=body)
    assert response.status_code == 422, response.text
    assert "typename" in response.text


def test_type_tags_in_message_payloads_and_form_data_are_422(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    message = {
        "message_id": str(uuid.uuid4()),
        "name": "payment_received",
        "correlation": {"loan_id": "L-1"},
        "payload": {"amount": {"typename": "Decimal", "value": "1e999999"}},
    }
    assert client.post("/api/v1/messages", headers=auth("system"), json=message).status_code == 422
    complete = client.post(
        f"/api/v1/tasks/{uuid.uuid4()}/complete",
        headers=auth("collector", groups=["collectors"]),
        json={"data": {"outcome": "refused", "notes": {"typename": "UUID", "value": "x"}}},
    )
    assert complete.status_code == 422


def test_ordinary_keys_are_fine(client: TestClient, auth: TokenFactory, deployed: Any) -> None:
    body = {
        "process_key": "t_collect",
        "loan_id": "L-OK",
        "request_id": str(uuid.uuid4()),
        "variables": {"amount": "1.00", "type": "salary", "name": {"value": "x"}},
    }
    assert client.post("/api/v1/cases", headers=auth("system"), json=body).status_code == 201
