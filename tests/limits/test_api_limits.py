"""Findings 3-10 over real HTTP against the ASGI app (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from xinedai_workflow.api.limits import url_is_unicode
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, OutboxMessage
from xinedai_workflow.worker.runner import Worker

from ..conftest import TEST_SECRET, TokenFactory, overdue_event, start_case
from .conftest import script_bpmn


def deploy(client: TestClient, auth: TokenFactory, files: dict[str, bytes]) -> Any:
    parts = [("files", (name, content, "application/octet-stream")) for name, content in files.items()]
    return client.post("/api/v1/definitions", headers=auth("compliance"), files=parts)


def post_case(client: TestClient, auth: TokenFactory, key: str, variables: dict[str, Any]) -> Any:
    body = {"process_key": key, "loan_id": f"L-{uuid.uuid4().hex[:8]}", "request_id": str(uuid.uuid4())}
    return client.post("/api/v1/cases", headers=auth("system"), json={**body, "variables": variables})


def test_poison_case_goes_to_error_and_its_neighbours_fire(
    client: TestClient, auth: TokenFactory, services: Services, worker: Worker, clock: ManualClock
) -> None:
    """Finding 3: one case's step fails (a value JSON cannot store; a corrupt state row); the other
    due timers of the batch fire in the same round and the outbox step still runs."""
    script = "if poison:\n    leftover = ValueError('boom')\nelse:\n    fine = True"
    assert (
        deploy(client, auth, {"t_poison.bpmn": script_bpmn("t_poison", script, timer_first=True)}).status_code
        == 201
    )
    good = [post_case(client, auth, "t_poison", {"poison": False}).json()["case_id"] for _ in range(3)]
    bad = post_case(client, auth, "t_poison", {"poison": True}).json()["case_id"]
    corrupt = post_case(client, auth, "t_poison", {"poison": False}).json()["case_id"]
    with services.db.write() as session:
        session.execute(
            update(Case).where(Case.id == uuid.UUID(corrupt)).values(state='{"not": "a workflow"')
        )
        session.add(  # an outbox row due now, to prove the outbox step runs in the same round
            OutboxMessage(
                id=uuid.uuid4(),
                case_id=uuid.UUID(good[0]),
                loan_id="L-x",
                channel="sms",
                operation="send_sms",
                element_id="run",
                idempotency_key=f"{good[0]}:probe",
                payload={"to": "13812345678", "text": "hi"},
                status="pending",
                attempts=0,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
        )
    clock.advance(timedelta(days=2))
    worker.run_once()

    for case_id in good:
        case = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()
        assert case["status"] == "active" and case["variables"]["fine"] is True, case
    failed = client.get(f"/api/v1/cases/{bad}", headers=auth("admin")).json()
    assert failed["status"] == "error" and failed["error"]["element_id"] == "run"
    assert "ValueError" in failed["error"]["message"]
    broken = client.get(f"/api/v1/cases/{corrupt}", headers=auth("admin")).json()
    assert broken["status"] == "error" and broken["error"]["element_id"] == "wait", broken
    with services.db.read() as session:
        assert "pending" not in session.scalars(select(OutboxMessage.status)).all()
    # the next round has nothing left to do for the poison cases: they are out of the lease query
    assert worker.fire_due_timers() == 0


def test_masking_long_text_is_linear(
    client: TestClient, auth: TokenFactory, deployed: dict[str, Any]
) -> None:
    """Finding 4: 1 MB of e-mail-like characters without an '@' is masked in linear time (the
    quadratic pattern took 8.7 s for 80 KB, so about 20 minutes for this text; the bound is wide
    so a loaded CI machine does not trip it)."""
    case_id = start_case(client, auth, note="a." * 400_000 + " wxm@example.com 13812345678")
    began = time.monotonic()
    response = client.get(f"/api/v1/cases/{case_id}", headers=auth("auditor"))
    assert response.status_code == 200
    assert time.monotonic() - began < 15.0
    note = response.json()["variables"]["note"]
    assert "wxm@" not in note and "13812345678" not in note


def test_unstorable_script_values_are_an_error_case_not_a_500(client: TestClient, auth: TokenFactory) -> None:
    """Finding 5 through POST /cases."""
    for script in [
        "e = ValueError('x')",
        "b = b'x'",
        "d = {(1, 2): 3}",
        "n = 10 ** 5000",
        "g = (i for i in [1])",
    ]:
        key = f"t_bad{uuid.uuid4().hex[:6]}"
        assert deploy(client, auth, {f"{key}.bpmn": script_bpmn(key, script)}).status_code == 201
        response = post_case(client, auth, key, {})
        assert response.status_code == 201, response.text
        case = client.get(f"/api/v1/cases/{response.json()['case_id']}", headers=auth("admin")).json()
        assert case["status"] == "error" and "cannot store" in case["error"]["message"], case


def test_lone_surrogates_nan_and_infinity_are_refused(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    """Finding 5 (API side) and 10: every string valid Unicode, numbers finite: 422, not 500 or null."""
    headers = {**auth("system"), "content-type": "application/json"}
    base = {"process_key": "t_collect", "loan_id": "L-1", "request_id": str(uuid.uuid4())}
    for raw in ['"\\ud800"', '"x\\udc00"', "NaN", "Infinity"]:
        text = json.dumps(base)[:-1] + f', "variables": {{"v": {raw}}}}}'
        response = client.post("/api/v1/cases", headers=headers, content=text)
        assert response.status_code == 422, (raw, response.text)
    message = {"message_id": "m1", "name": "payment", "correlation": {"loan_id": "L-\\ud800"}}
    response = client.post(
        "/api/v1/messages", headers=headers, content=json.dumps(message).replace("\\\\", "\\")
    )
    assert response.status_code == 422
    ok = json.dumps({**base, "variables": {"v": "\U0001f600"}}, ensure_ascii=True)  # a valid pair
    assert client.post("/api/v1/cases", headers=headers, content=ok).status_code == 201


def test_urls_that_are_not_unicode_are_refused(client: TestClient, auth: TokenFactory) -> None:
    """A lone surrogate (or any invalid UTF-8) in the path or a query parameter: 422, not 500 and
    not a silent U+FFFD search."""
    headers = auth("admin")
    for url in [
        "/api/v1/cases/%ED%A0%80",  # the UTF-8 form of "\ud800"
        "/api/v1/cases?loan_id=%ED%B0%80",  # "\udc00"
        "/api/v1/cases?loan_id=%FF",
        "/api/v1/tasks?group=collectors&stage=%ED%A0%80x",
        "/api/v1/cases/%ED%A0%80/history",
    ]:
        response = client.get(url, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert "not valid UTF-8" in response.json()["error"]["message"]
    response = client.post("/api/v1/tasks/%ED%A0%80/claim", headers=headers)
    assert response.status_code == 422
    assert client.get("/api/v1/cases?loan_id=%E5%BC%A0+1", headers=headers).status_code == 200  # "张 1"
    # a server that hands a decoded lone surrogate through in `path` is refused too
    assert not url_is_unicode({"type": "http", "path": "/api/v1/cases/\ud800", "query_string": b""})
    assert url_is_unicode({"type": "http", "path": "/api/v1/cases/张", "query_string": b"a=%E5%BC%A0"})


def test_money_and_integers_are_strict(client: TestClient, auth: TokenFactory, deployed: Any) -> None:
    """Findings 8 and 10: ASCII digits, at most 2 decimals; integers are integers; rate a fraction."""
    bad = [
        {"overdue_principal": "１０００.００"},
        {"overdue_principal": "١٠٠٠"},
        {"principal": "1e3"},
        {"overdue_interest": "10.005"},
        {"days_past_due": 5.0},
        {"days_past_due": True},
        {"annual_rate": "5"},
    ]
    for change in bad:
        response = client.post("/api/v1/events/overdue", headers=auth("system"), json=overdue_event(**change))
        assert response.status_code == 422, (change, response.text)
    payment = {"event_id": "p1", "loan_id": "L-1", "amount": "１00", "paid_at": "2026-03-02T09:00:00+08:00"}
    assert client.post("/api/v1/events/payment", headers=auth("system"), json=payment).status_code == 422
    fine = client.post(
        "/api/v1/events/overdue", headers=auth("system"), json=overdue_event(principal="1000.5")
    )
    assert fine.status_code in (200, 201), fine.text


FORMLESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:process id="t_noform" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="look" name="Look"><bpmn:extensionElements>
      <spiffworkflow:instructionsForEndUser>{INSTRUCTIONS}</spiffworkflow:instructionsForEndUser>
      </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def _open_task(client: TestClient, auth: TokenFactory, case_id: str) -> str:
    tasks = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()["open_tasks"]
    return str(tasks[0]["task_id"])


def test_formless_task_warns_at_deploy_and_accepts_only_an_empty_object(
    client: TestClient, auth: TokenFactory
) -> None:
    """Finding 9."""
    response = deploy(client, auth, {"t_noform.bpmn": FORMLESS.replace("{INSTRUCTIONS}", "Hi").encode()})
    assert response.status_code == 201
    assert any("without a form" in w["message"] for w in response.json()["warnings"]), response.json()
    case_id = post_case(client, auth, "t_noform", {"loan_id": "L-keep", "amount_due": "10.00"}).json()[
        "case_id"
    ]
    task_id = _open_task(client, auth, case_id)
    headers = auth("admin")
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers).status_code == 200
    refused = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=headers,
        json={"data": {"amount_due": "0", "loan_id": "X"}},
    )
    assert refused.status_code == 422
    assert (
        client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {}}).status_code
        == 200
    )
    variables = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()["variables"]
    assert variables["amount_due"] == "10.00"


def test_instructions_that_fail_or_overrun_show_the_fallback(client: TestClient, auth: TokenFactory) -> None:
    """Finding 6: never a 500, the view answers in time: the nested loop would run for hours
    (10**10 steps) without the render limit of 1 s, so a wide bound still proves the limit."""
    for source in [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ range(200000) | list }}",
        "{{ 10 ** 5000 }}",
        "{{ 1 // 0 }}",
    ]:
        key = "t_noform"
        bpmn = FORMLESS.replace("{INSTRUCTIONS}", source.replace("<", "&lt;"))
        assert deploy(client, auth, {f"{key}.bpmn": bpmn.encode()}).status_code == 201
        case_id = post_case(client, auth, key, {}).json()["case_id"]
        task_id = _open_task(client, auth, case_id)
        began = time.monotonic()
        response = client.get(f"/api/v1/tasks/{task_id}", headers=auth("admin"))
        assert response.status_code == 200, (source, response.text)
        assert "could not be rendered" in response.json()["instructions"]
        assert time.monotonic() - began < 10.0


def test_catastrophic_form_patterns_are_refused_or_linear(client: TestClient, auth: TokenFactory) -> None:
    """Finding 7: back-references are refused at deploy; ^(a+)+$ runs on RE2 in linear time."""
    bpmn = FORMLESS.replace("{INSTRUCTIONS}", "Hi").replace(
        "<spiffworkflow:instructionsForEndUser>",
        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="f.json" />'
        "</spiffworkflow:properties><spiffworkflow:instructionsForEndUser>",
    )
    backref = {"type": "object", "properties": {"v": {"type": "string", "pattern": "^(a)\\1$"}}}
    refused = deploy(client, auth, {"t_noform.bpmn": bpmn.encode(), "f.json": json.dumps(backref).encode()})
    assert refused.status_code == 422 and "RE2" in refused.text
    nested = {"type": "object", "properties": {"v": {"type": "string", "pattern": "^(a+)+$"}}}
    assert (
        deploy(
            client, auth, {"t_noform.bpmn": bpmn.encode(), "f.json": json.dumps(nested).encode()}
        ).status_code
        == 201
    )
    case_id = post_case(client, auth, "t_noform", {}).json()["case_id"]
    task_id = _open_task(client, auth, case_id)
    headers = auth("admin")
    client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    began = time.monotonic()
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {"v": "a" * 5000 + "b"}}
    )
    assert response.status_code == 422
    assert time.monotonic() - began < 10.0  # backtracking on 5,001 characters would never end


def test_tokens_have_a_maximum_lifetime(client: TestClient) -> None:
    """Finding 10: exp far in the future is refused (default maximum 12 h)."""
    now = int(time.time())
    claims = {"sub": "x", "roles": ["admin"], "iss": "xinedai-workflow", "aud": "xinedai-workflow"}
    for extra in [{"exp": 10**30}, {"iat": now, "exp": now + 13 * 3600}, {"exp": now + 13 * 3600}]:
        token = jwt.encode({**claims, **extra}, TEST_SECRET, algorithm="HS256")
        assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    token = jwt.encode({**claims, "iat": now, "exp": now + 3600}, TEST_SECRET, algorithm="HS256")
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
