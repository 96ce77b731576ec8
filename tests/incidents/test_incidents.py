"""A case that fails before offering any work: the incident view lists it, a supervisor of the
default group can see and retry it, and a later overdue event is held on it instead of vanishing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TokenFactory, overdue_event
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import BufferedMessage
from xinedai_workflow.settings import Settings

BROKEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Defs_t_broken" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="t_broken" name="Fails at its first script" isExecutable="true">
    <bpmn:laneSet id="LaneSet_b">
      <bpmn:lane id="Lane_b" name="collectors">
        <bpmn:flowNodeRef>call</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="split" name="Split the amount">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>share = days_past_due / parts</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="call" name="Call">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="call"/>
    <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"default_process_key": "t_broken"})


def _broken_case(client: TestClient, auth: TokenFactory) -> tuple[str, str]:
    deployed = client.post(
        "/api/v1/definitions",
        headers=auth("compliance"),
        files=[("files", ("t_broken.bpmn", BROKEN, "application/xml"))],
    )
    assert deployed.status_code == 201, deployed.text
    event = overdue_event()
    answer = client.post("/api/v1/events/overdue", headers=auth("system"), json=event)
    assert answer.status_code == 201 and answer.json()["status"] == "error", answer.text
    return answer.json()["case_id"], event["loan_id"]


def test_the_incident_view_lists_cases_in_error_per_version_and_element(
    client: TestClient, auth: TokenFactory
) -> None:
    case_id, _ = _broken_case(client, auth)
    for role in ("compliance", "auditor", "admin"):
        answer = client.get("/api/v1/incidents", headers=auth(role))
        assert answer.status_code == 200, answer.text
        (incident,) = answer.json()["items"]
        assert incident["process_key"] == "t_broken" and incident["version"] == 1
        assert incident["element_id"] == "split" and "parts" in incident["message"]
        assert incident["cases"] == 1 and incident["case_ids"] == [case_id]
    assert (
        client.get("/api/v1/incidents", headers=auth("collector", groups=["collectors"])).status_code == 403
    )
    metrics = client.get("/metrics", headers=auth("admin")).text
    assert 'xinedai_incidents{element_id="split",process_key="t_broken",version="1"} 1.0' in metrics


def test_a_supervisor_of_the_default_group_sees_and_retries_it_a_collector_does_not(
    client: TestClient, auth: TokenFactory
) -> None:
    case_id, _ = _broken_case(client, auth)
    collector = auth("collector", groups=["collectors"])
    assert client.get(f"/api/v1/cases/{case_id}", headers=collector).status_code == 404
    other = auth("supervisor", groups=["legal"])
    assert client.get(f"/api/v1/cases/{case_id}", headers=other).status_code == 404
    assert client.get("/api/v1/incidents", headers=other).json()["items"] == []
    supervisor = auth("supervisor", groups=["collectors"], sub="sup-1")
    assert client.get(f"/api/v1/cases/{case_id}", headers=supervisor).status_code == 200
    assert len(client.get("/api/v1/incidents", headers=supervisor).json()["items"]) == 1
    # what the supervisor needs to investigate before retrying: the history and the contact check
    for path in ("history", "contact-check?channel=sms&target=borrower", "contact-facts"):
        assert client.get(f"/api/v1/cases/{case_id}/{path}", headers=supervisor).status_code == 200, path
        assert client.get(f"/api/v1/cases/{case_id}/{path}", headers=other).status_code == 404, path
        assert client.get(f"/api/v1/cases/{case_id}/{path}", headers=collector).status_code == 404, path
    retried = client.post(
        f"/api/v1/cases/{case_id}/retry", headers=supervisor, json={"variables": {"parts": 5}}
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "active"
    assert client.get("/api/v1/incidents", headers=auth("admin")).json()["items"] == []


def test_an_overdue_event_for_a_loan_whose_case_is_in_error_is_held_on_it(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    case_id, loan_id = _broken_case(client, auth)
    again: dict[str, Any] = overdue_event(loan_id=loan_id, days_past_due=12)
    answer = client.post("/api/v1/events/overdue", headers=auth("system"), json=again)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"case_id": case_id, "status": "error", "incident": True}
    history = client.get(
        f"/api/v1/cases/{case_id}/history", headers=auth("admin"), params={"limit": 200}
    ).json()
    held = [h for h in history["items"] if h["action"] == "incident_event_held"]
    assert (
        len(held) == 1
        and held[0]["data"]["event_id"] == again["event_id"]
        and held[0]["element_id"] == "split"
    )
    with services.db.read() as session:
        rows = list(session.scalars(select(BufferedMessage).where(BufferedMessage.case_id.isnot(None))))
        assert [(r.name, r.expires_at) for r in rows] == [("overdue_updated", None)]
    (incident,) = client.get("/api/v1/incidents", headers=auth("admin")).json()["items"]
    assert incident["held_events"] == 1
    replay = client.post("/api/v1/events/overdue", headers=auth("system"), json=again)
    assert replay.status_code == 200 and replay.json() == answer.json()
