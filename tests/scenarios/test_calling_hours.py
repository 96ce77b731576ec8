"""A case that waits for the borrower's calling hours says so, in the view and the task detail."""

from __future__ import annotations

from datetime import timedelta

from tests.scenarios.conftest import Flow


def test_an_evening_case_explains_the_empty_inbox_until_calling_hours_begin(flow: Flow) -> None:
    flow.advance(timedelta(hours=13, minutes=30))  # 22:30 in Shanghai: no collection calls now
    case_id, _ = flow.overdue(occurred_at=flow.clock.now().isoformat())
    case = flow.case(case_id)
    assert case["open_tasks"] == [] and case["stage"] == "informal"
    step = case["next_step"]
    assert step["reason"] == "waiting_for_timer" and step["name"] == "Calling hours begin"
    assert step["until"].startswith("2026-03-03T00:00:00") and step["until_local"] == "2026-03-03 08:00"
    assert (
        step["timezone"] == "Asia/Shanghai"
        and "08:00" in step["message"]
        and "借款人当地时间" in step["message_zh"]
    )
    auditor = flow.auth("auditor")
    assert flow.client.get(f"/api/v1/cases/{case_id}", headers=auditor).json()["next_step"] == step

    flow.advance_to_local(1, 8)  # calling hours begin: the call task opens, nothing to explain
    case = flow.case(case_id)
    assert [t["name"] for t in case["open_tasks"]] == ["call_borrower"] and case["next_step"] is None
    detail = flow.detail(case_id, "call_borrower")
    assert detail["case"]["next_step"] is None
    task_id = detail["task_id"]

    flow.work(case_id, "call_borrower", {"outcome": "no_answer"})
    collector = flow.auth("collector", groups=["collectors"], sub="collector-1")
    ended = flow.client.get(f"/api/v1/tasks/{task_id}", headers=collector).json()
    assert ended["status"] == "completed"
    assert ended["case"]["next_step"]["reason"] == "waiting_for_timer"  # the retry wait, with its end
    assert ended["case"]["next_step"] == flow.case(case_id)["next_step"]
