"""Agency tests drive the real overdue process (the scenario fixtures) plus agency helpers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from tests.scenarios.conftest import Flow, flow, settings
from xinedai_workflow.auth.tokens import mint_token

__all__ = ["agency", "agency_token", "flow", "place", "register", "settings"]


def agency(agency_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid agency registration (contract running over the fixtures' start date)."""
    body: dict[str, Any] = {
        "id": agency_id,
        "name": f"{agency_id} 催收服务有限公司",
        "scope": "个人消费贷款逾期 M1-M3 电话催收",
        "contract_ref": f"WW-2026-{agency_id}",
        "contract_start": "2026-01-01",
        "contract_end": "2026-12-31",
        "commission_rate": "0.1250",
        "allowed_channels": ["call", "sms"],
        "personal_data_fields": ["name", "phone"],
        "contact_policy_id": "xinedai-contact-policy",
        "impact_assessment_ref": f"PIA-2025-{agency_id}",
    }
    body.update(overrides)
    return body


def register(flow: Flow, agency_id: str, **overrides: Any) -> dict[str, Any]:
    response = flow.client.post(
        "/api/v1/agencies", headers=flow.auth("compliance"), json=agency(agency_id, **overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def place(flow: Flow, agency_id: str, *case_ids: str) -> list[dict[str, Any]]:
    response = flow.client.post(
        f"/api/v1/agencies/{agency_id}/placements",
        headers=flow.auth("supervisor", groups=["collectors", "supervisors"], sub="sup-1"),
        json={"case_ids": list(case_ids)},
    )
    assert response.status_code == 201, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def agency_token(flow: Flow, agency_id: str, sub: str | None = None) -> dict[str, str]:
    token = mint_token(
        flow.services.settings, sub or f"{agency_id}-collector", ["agency_collector"], agency=agency_id
    )
    return {"Authorization": f"Bearer {token}"}


def new_loan() -> str:
    return f"XED-{uuid.uuid4().hex[:10]}"


def today() -> date:
    return date(2026, 3, 2)
