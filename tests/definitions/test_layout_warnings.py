"""A deploy answers the layout check as warnings (never a refusal), a few per kind, the rest counted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ..conftest import TokenFactory

DIAGRAM = Path(__file__).resolve().parents[1] / "migration" / "diagrams" / "m_sub_v4.bpmn"


def _deploy(client: TestClient, auth: TokenFactory, content: bytes) -> Any:
    parts = [("files", ("m_sub.bpmn", content, "application/octet-stream"))]
    return client.post("/api/v1/definitions", headers=auth("compliance"), files=parts)


def _layout(response: Any) -> list[dict[str, Any]]:
    return [w for w in response.json()["warnings"] if w["message"].startswith("layout: ")]


def test_a_laid_out_diagram_deploys_without_layout_warnings(client: TestClient, auth: TokenFactory) -> None:
    response = _deploy(client, auth, DIAGRAM.read_bytes())
    assert response.status_code == 201, response.text
    assert _layout(response) == []


def test_a_diagram_without_di_deploys_with_a_capped_list_of_layout_warnings(
    client: TestClient, auth: TokenFactory
) -> None:
    bare = re.sub(rb"\s*<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", b"", DIAGRAM.read_bytes(), flags=re.S)
    assert b"BPMNShape" not in bare
    response = _deploy(client, auth, bare)
    assert response.status_code == 201, response.text
    warnings = _layout(response)
    listed = [w for w in warnings if w["element_id"] is not None]
    assert [w["element_id"] for w in listed] == ["start", "sub", "end"]
    assert all(w["file"] == "m_sub.bpmn" and w["line"] for w in listed)
    assert "drawn on no plane" in listed[0]["message"]
    summary = [w for w in warnings if w["element_id"] is None]
    assert len(summary) == 1 and summary[0]["message"].startswith("layout: 2 more missing di finding(s)")
    assert "diagram-layout" in summary[0]["message"]
    listing = client.get("/api/v1/definitions", headers=auth("compliance")).json()
    assert any(v["key"] == "m_sub" for v in listing)
