"""The workbench's pages over HTTP: the same services as the API (visibility, masking,
validation messages, history), the next-task key, the case diagram data and the dashboard's CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.conftest import TokenFactory
from tests.scenarios.conftest import Flow
from tests.web.helpers import web_sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MARKUP_NAME = '<b onmouseover="alert(1)">赵</b><script>alert(2)</script>'


def _take_next(client: TestClient, csrf: str) -> str:
    taken = client.post("/desk/next", data={"csrf": csrf}, follow_redirects=False)
    assert taken.status_code == 303 and taken.headers["location"].startswith("/task/"), taken.text
    return str(taken.headers["location"].rsplit("/", 1)[1])


def test_the_desk_lists_the_callers_tasks_with_counts(flow: Flow, client: TestClient) -> None:
    for _ in range(3):
        flow.overdue()
    flow.run_worker()
    web_sign_in(client, "alice")
    desk = client.get("/desk").text
    assert desk.count('class="task-row"') == 3
    assert re.search(r'id="count-all">3<', desk) and re.search(r'id="count-queue">3<', desk)
    assert "call_borrower" not in desk or "Call the borrower" in desk
    mine = client.get("/desk?assigned=me").text
    assert mine.count('class="task-row"') == 0
    client.cookies.clear()
    web_sign_in(client, "lena")  # legal: not the collectors' lane
    assert client.get("/desk").text.count('class="task-row"') == 0


def test_next_task_claims_and_a_task_outside_ones_lanes_is_404(flow: Flow, client: TestClient) -> None:
    case_id, _ = flow.overdue()
    flow.run_worker()
    csrf = web_sign_in(client, "alice")
    task_id = _take_next(client, csrf)
    page = client.get(f"/task/{task_id}").text
    assert 'id="claim-form"' not in page and "alice" in page and 'id="task-form"' in page
    history = flow.history(case_id)
    assert history[-1]["action"] == "task_claimed" and history[-1]["actor"] == "alice"
    client.cookies.clear()
    web_sign_in(client, "lena")
    assert client.get(f"/task/{task_id}").status_code == 404
    assert client.get(f"/case/{case_id}").status_code == 404


def test_the_form_shows_the_servers_own_messages(flow: Flow, client: TestClient, auth: TokenFactory) -> None:
    case_id, _ = flow.overdue()
    flow.run_worker()
    csrf = web_sign_in(client, "alice")
    task_id = _take_next(client, csrf)
    data = {"outcome": "promise_to_pay", "promised_amount": "12.345", "promised_date": "not-a-date"}
    via_web = client.post(f"/task/{task_id}/complete", data={**data, "csrf": csrf}, follow_redirects=False)
    assert via_web.status_code == 422
    headers = auth("collector", groups=["collectors"], sub="alice")
    via_api = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": data})
    assert via_api.status_code == 422
    problems = via_api.json()["error"]["details"]
    assert {p["field"] for p in problems} == {"promised_amount", "promised_date"}
    for problem in problems:
        assert f"<code>{problem['field']}</code>: {escape(problem['message'])}" in via_web.text, problem
    assert 'value="12.345"' in via_web.text  # what was typed stays in the form
    assert flow.case(case_id)["open_tasks"][0]["task_id"] == task_id  # nothing changed
    done = client.post(
        f"/task/{task_id}/complete",
        data={"outcome": "no_answer", "notes": "占线", "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/case/{case_id}?notice=completed"
    completed = [e for e in flow.history(case_id) if e["action"] == "task_completed"]
    assert completed[-1]["actor"] == "alice" and completed[-1]["data"]["data"]["outcome"] == "no_answer"


def test_personal_data_is_masked_exactly_as_the_api_masks_it(
    flow: Flow, client: TestClient, auth: TokenFactory
) -> None:
    case_id, _ = flow.overdue()
    flow.run_worker()
    api = client.get(f"/api/v1/cases/{case_id}", headers=auth("auditor", sub="audrey")).json()
    masked = api["variables"]["borrower"]
    assert masked["name"] != "王小明"
    web_sign_in(client, "audrey")
    page = client.get(f"/case/{case_id}").text
    assert f'id="borrower-name">{html.escape(masked["name"])}<' in page
    assert "王小明" not in page and "13812345678" not in page and html.escape(masked["phone"]) in page
    client.cookies.clear()
    web_sign_in(client, "alice")
    assert 'id="borrower-name">王小明<' in client.get(f"/case/{case_id}").text


def test_values_from_a_case_are_escaped(flow: Flow, client: TestClient) -> None:
    case_id, _ = flow.overdue(
        borrower={"id": "B-m", "name": MARKUP_NAME, "phone": "13812345678", "timezone": "Asia/Shanghai"}
    )
    flow.run_worker()
    csrf = web_sign_in(client, "alice")
    task_id = _take_next(client, csrf)
    for path in (f"/task/{task_id}", f"/case/{case_id}"):
        page = client.get(path).text
        assert MARKUP_NAME not in page and "<script>alert" not in page and "<b onmouseover" not in page
        assert str(escape(MARKUP_NAME)) in page


def test_the_case_diagram_data(flow: Flow, client: TestClient) -> None:
    case_id, _ = flow.overdue()
    flow.run_worker()
    web_sign_in(client, "alice")
    data = client.get(f"/case/{case_id}/diagram.json").json()
    assert '<bpmn:process id="xinedai_overdue"' in data["xml"]
    assert data["active"] == ["call_borrower"]
    assert {"sms_reminder", "email_reminder"} <= set(data["taken"])
    assert {w["element_id"] for w in data["waits"]} >= {"informal_timeout", "payment_start"}
    timer = next(w for w in data["waits"] if w["kind"] == "timer")
    assert timer["due_at"].endswith("+00:00")


def test_the_dashboard_numbers_as_csv(flow: Flow, client: TestClient) -> None:
    flow.overdue()
    flow.overdue()
    flow.advance(timedelta(minutes=5))
    web_sign_in(client, "sam")
    response = client.get("/dashboard/funnel.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [["stage", "cases"], ["informal", "2"]]
    work = list(csv.reader(io.StringIO(client.get("/dashboard/work_group.csv").text)))
    assert work[0] == ["group", "open", "unassigned", "past_due", "completed"]
    assert work[1][:3] == ["collectors", "2", "2"]
    data = client.get("/dashboard/data.json").json()
    assert set(data["charts"]) >= {
        "cure_recovery",
        "roll_rates",
        "rates",
        "funnel",
        "time_in_stage",
        "work_group",
        "work_person",
        "past_due",
        "contact_caps",
        "incidents",
    }
    assert data["headline"]["cases_opened"] == 2
    assert client.get("/dashboard/nope.csv").status_code == 404
