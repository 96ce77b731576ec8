"""Contacts collectors record by completing a contact task pass the same policy: a blocked one is
refused with the rule and the next allowed moment, and the refusal stays in the history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.compliance.conftest import (
    StartCase,
    blocks,
    contacts,
    history,
    local,
    outbox,
    record_call,
    run_until,
)
from tests.conftest import TokenFactory

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.worker.runner import Worker


def test_a_fourth_connected_call_in_a_day_is_refused_and_the_refusal_is_kept(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    case_id = start("c_calls", borrower_id="B-calls")
    for outcome in ("no_answer", "promise_to_pay", "no_answer", "hardship", "refused"):
        answer = record_call(client, alice, case_id, outcome=outcome, recording_ref=f"REC-{outcome}")
        assert answer.status_code == 200, answer.text

    refused = record_call(client, alice, case_id, outcome="promise_to_pay")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "contact_not_allowed"
    assert "at most 3 connected calls a day" in error["message"]
    details = error["details"]
    assert details["rule"] == "daily_call_cap" and details["action"] == "refuse"
    # tomorrow 00:00 lifts the cap, but quiet hours hold until 08:00 local (00:00 UTC)
    assert datetime.fromisoformat(details["next_allowed_at"]) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert details["policy_version"] == "2025.1" and details["policy_sha256"]

    recorded = contacts(services, "B-calls")
    assert [c.connected for c in recorded] == [False, True, False, True, True]
    assert [c.conversation for c in recorded] == [False, True, False, True, True]
    assert recorded[1].recording_ref == "REC-promise_to_pay" and recorded[1].actor == "alice"
    [refusal] = history(services, case_id, "contact_refused")
    assert refusal.actor == "alice" and refusal.data["decision"]["rule"] == "daily_call_cap"
    assert len(history(services, case_id, "contact_recorded")) == 5
    [block] = blocks(services, "B-calls")
    assert (block.action, block.rule, block.actor) == ("refuse", "daily_call_cap", "alice")
    # the task is still open and claimed: the collector completes it when allowed
    case = client.get(f"/api/v1/cases/{case_id}", headers=alice).json()
    assert [t["name"] for t in case["open_tasks"]] == ["call"]
    assert client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("auditor")).json()["valid"]


def test_the_cap_counts_every_case_user_and_agency_of_the_borrower(
    client: TestClient, auth: TokenFactory, compliance_deployed: dict[str, Any], start: StartCase
) -> None:
    bank = auth("collector", groups=["collectors"], sub="alice")
    agency = auth("collector", groups=["collectors"], sub="agency-zhang")
    first = start("c_calls", borrower_id="B-shared")
    second = start("c_calls", borrower_id="B-shared")  # another loan of the same borrower
    assert record_call(client, bank, first, outcome="promise_to_pay").status_code == 200
    assert record_call(client, agency, second, outcome="wrong_party").status_code == 200
    assert record_call(client, bank, first, outcome="hardship").status_code == 200
    refused = record_call(client, agency, second, outcome="promise_to_pay")
    assert refused.status_code == 409 and refused.json()["error"]["details"]["rule"] == "daily_call_cap"


def test_calls_in_quiet_hours_during_a_plan_or_a_dispute_are_refused(
    client: TestClient,
    auth: TokenFactory,
    clock: ManualClock,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    night = start("c_calls", borrower_id="B-night", timezone="Europe/London")
    clock.set(datetime(2026, 3, 2, 22, 30, tzinfo=UTC))  # 22:30 in London
    answer = record_call(client, alice, night, outcome="no_answer")
    assert answer.status_code == 409
    details = answer.json()["error"]["details"]
    assert details["rule"] == "quiet_hours" and details["borrower_timezone"] == "Europe/London"
    assert datetime.fromisoformat(details["next_allowed_at"]) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)

    clock.set(datetime(2026, 3, 3, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    plan = start("c_calls", borrower_id="B-plan", plan_kept=True)
    dispute = start("c_calls", borrower_id="B-dispute", dispute_open=True)
    for case_id, rule in ((plan, "plan_kept"), (dispute, "dispute_open")):
        answer = record_call(client, alice, case_id, outcome="promise_to_pay")
        assert answer.status_code == 409 and answer.json()["error"]["details"]["rule"] == rule
        assert answer.json()["error"]["details"]["next_allowed_at"] is None


def test_sms_and_calls_share_the_daily_contact_cap(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    start("c_burst", borrower_id="B-mixed", burst=4)
    worker.run_once()
    calls = start("c_calls", borrower_id="B-mixed")
    assert record_call(client, alice, calls, outcome="promise_to_pay").status_code == 200
    assert record_call(client, alice, calls, outcome="hardship").status_code == 200
    refused = record_call(client, alice, calls, outcome="hardship")
    assert refused.status_code == 409 and refused.json()["error"]["details"]["rule"] == "daily_contact_cap"
    assert len([c for c in contacts(services, "B-mixed") if c.connected]) == 6


def test_contact_check_answers_before_dialling(
    client: TestClient,
    auth: TokenFactory,
    clock: ManualClock,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    case_id = start("c_calls", borrower_id="B-check")
    check = client.get(f"/api/v1/cases/{case_id}/contact-check?channel=call", headers=alice)
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["allowed"] is True and body["action"] == "allow" and body["policy_version"] == "2025.1"
    assert body["today"] == {"date": "2026-03-02", "connected_calls": 0, "call_attempts": 0, "contacts": 0}
    assert body["limits"]["max_connected_calls_per_day"] == 3
    assert datetime.fromisoformat(body["borrower_local_time"]).isoformat() == "2026-03-02T09:00:00+08:00"

    for outcome in ("promise_to_pay", "no_answer", "hardship", "dispute"):
        assert record_call(client, alice, case_id, outcome=outcome).status_code == 200
    body = client.get(f"/api/v1/cases/{case_id}/contact-check", headers=alice).json()
    assert body["allowed"] is False and body["rule"] == "daily_call_cap"
    assert body["today"]["connected_calls"] == 3 and body["today"]["call_attempts"] == 4
    assert datetime.fromisoformat(body["next_allowed_at"]) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)

    clock.advance(timedelta(days=1))
    assert client.get(f"/api/v1/cases/{case_id}/contact-check", headers=alice).json()["allowed"] is True

    stranger = auth("collector", groups=["legal-team"], sub="bob")
    assert client.get(f"/api/v1/cases/{case_id}/contact-check", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/cases/{case_id}/contact-check", headers=auth("compliance")).status_code == 403
    bad = client.get(f"/api/v1/cases/{case_id}/contact-check?channel=fax", headers=alice)
    assert bad.status_code == 422


def test_a_task_without_contact_channel_records_no_contact(
    client: TestClient, auth: TokenFactory, services: Services, deployed: dict[str, Any], start: StartCase
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    case_id = start("t_collect", amount="100.00")
    case = client.get(f"/api/v1/cases/{case_id}", headers=alice).json()
    task_id = case["open_tasks"][0]["task_id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=alice).status_code == 200
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=alice, json={"data": {"outcome": "refused"}}
    )
    assert done.status_code == 200, done.text
    assert contacts(services) == []


def test_automated_calls_share_the_connected_call_cap_with_collectors_and_keep_quiet_hours(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
    settings: Any,
) -> None:
    """A diagram placing an automated call every half hour for two days (Monday 09:00 Shanghai on):
    three calls ring on Monday, the fourth is deferred to the next morning, a collector's call that
    Monday is refused, and no day ever has more than three or any call in quiet hours."""
    robocalls = start("c_robocalls", borrower_id="B-robo", rounds=96)
    collector_case = start("c_calls", borrower_id="B-robo")
    run_until(services, worker, clock, clock.now() + timedelta(hours=3))

    rung = [c for c in contacts(services, "B-robo") if c.channel == "automated_call"]
    assert len(rung) == 3 and all(c.kind == "outbound_automated" for c in rung)
    [deferred, *_] = history(services, robocalls, "contact_deferred")
    assert deferred.data["decision"]["rule"] == "daily_call_cap"
    alice = auth("collector", groups=["collectors"], sub="alice")
    refused = record_call(client, alice, collector_case, outcome="promise_to_pay")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"]["rule"] == "daily_call_cap"

    run_until(services, worker, clock, clock.now() + timedelta(days=6))
    rung = [c for c in contacts(services, "B-robo") if c.channel == "automated_call"]
    per_day = Counter(local(c.at, "Asia/Shanghai").date() for c in rung)
    assert len(per_day) >= 2 and max(per_day.values()) <= 3
    assert all(8 <= local(c.at, "Asia/Shanghai").hour < 22 for c in rung)
    messages = outbox(services, robocalls)
    assert len(messages) == 96 and {m.channel for m in messages} == {"automated_call"}
    statuses = Counter(m.status for m in messages)
    assert statuses["sent"] == len(rung) and statuses["pending"] == 0
    assert statuses["sent"] + statuses["dropped"] == 96
    # the channel sink holds exactly the calls placed, each with the spoken-text template named
    placed = list(Path(settings.outbox_sink_dir, "automated_call").glob("*.json"))
    assert len(placed) == statuses["sent"]
    assert "voice_reminder.txt.j2" in placed[0].read_text(encoding="utf-8")
