"""Outbound messages pass the contact policy in force, whatever the diagrams ask for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.compliance.conftest import (
    StartCase,
    blocks,
    bundle,
    contacts,
    history,
    local,
    outbox,
    policy_with,
    run_until,
)
from tests.conftest import TokenFactory

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.retry import write_with_retry
from xinedai_workflow.worker.runner import Worker

POLICY_VERSION = "2025.1"


def test_a_diagram_sending_an_sms_every_hour_gets_at_most_the_daily_cap(
    services: Services,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
    settings: Any,
) -> None:
    case_id = start("c_hourly_sms", borrower_id="B-hourly", rounds=48)
    run_until(services, worker, clock, clock.now() + timedelta(days=6))

    sent = [c for c in contacts(services, "B-hourly") if c.connected]
    per_day = Counter(local(c.at, "Asia/Shanghai").date() for c in sent)
    assert per_day and max(per_day.values()) <= 6
    assert all(8 <= local(c.at, "Asia/Shanghai").hour < 22 for c in sent)

    messages = outbox(services, case_id)
    assert len(messages) == 48
    statuses = Counter(m.status for m in messages)
    assert statuses["sent"] == len(sent) and statuses["pending"] == 0
    assert statuses["sent"] + statuses["dropped"] == 48
    assert statuses["dropped"], "messages that cannot go out within 72 h of being queued are dropped"
    # the channel received exactly the sent messages
    sink = list(Path(settings.outbox_sink_dir, "sms").glob("*.json"))
    assert len(sink) == statuses["sent"]

    deferred = history(services, case_id, "contact_deferred")
    assert deferred, "the messages over the cap are deferred, visibly"
    first = deferred[0].data
    assert first["decision"]["action"] == "defer"
    assert first["decision"]["rule"] in ("daily_contact_cap", "quiet_hours")
    assert first["decision"]["policy_version"] == POLICY_VERSION
    assert first["next_attempt_at"] == first["decision"]["next_allowed_at"]
    sent_entries = history(services, case_id, "contact_sent")
    assert len(sent_entries) == statuses["sent"]
    assert all(e.data["decision"]["policy_version"] == POLICY_VERSION for e in sent_entries)
    dropped = history(services, case_id, "contact_dropped")
    assert len(dropped) == statuses["dropped"]
    assert "not sent within 72 h of being queued" in dropped[0].data["decision"]["reason"]
    assert {b.rule for b in blocks(services, "B-hourly")} <= {"daily_contact_cap", "quiet_hours"}


def test_quiet_hours_are_the_borrowers_own_and_a_deferred_message_goes_out_in_the_morning(
    services: Services,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # 16:00 in Shanghai, 03:00 in New York
    case_id = start("c_burst", borrower_id="B-ny", timezone="America/New_York", burst=1)
    worker.run_once()
    [message] = outbox(services, case_id)
    assert message.status == "pending"
    assert message.next_attempt_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 EST
    [entry] = history(services, case_id, "contact_deferred")
    assert entry.data["decision"]["rule"] == "quiet_hours"
    assert "America/New_York" in entry.data["decision"]["reason"]

    clock.set(datetime(2026, 3, 2, 12, 59, tzinfo=UTC))
    worker.run_once()
    assert outbox(services, case_id)[0].status == "pending"
    clock.set(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    worker.run_once()
    assert outbox(services, case_id)[0].status == "sent"
    [contact] = contacts(services, "B-ny")
    assert contact.connected is True and contact.timezone == "America/New_York"
    assert contact.local_date.isoformat() == "2026-03-02" and contact.policy_version == POLICY_VERSION


def test_a_reminder_deferred_overnight_is_dropped_when_the_case_ends_before_morning(
    services: Services,
    clock: ManualClock,
    worker: Worker,
    client: TestClient,
    auth: TokenFactory,
    compliance_deployed: dict[str, Any],
    start: StartCase,
    settings: Any,
) -> None:
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # 03:00 in New York: the SMS waits for 08:00
    case_id = start("c_burst", borrower_id="B-paid", timezone="America/New_York", burst=1)
    worker.run_once()
    assert [m.status for m in outbox(services, case_id)] == ["pending"]
    alice = auth("collector", groups=["collectors"], sub="alice")
    [task] = client.get(f"/api/v1/cases/{case_id}", headers=alice).json()["open_tasks"]
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice).status_code == 200
    done = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=alice, json={"data": {}})
    assert done.status_code == 200 and done.json()["status"] == "completed"

    clock.set(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))  # 08:00 in New York
    worker.run_once()
    [message] = outbox(services, case_id)
    assert message.status == "dropped"
    [entry] = history(services, case_id, "contact_dropped")
    assert entry.data["decision"]["rule"] == "case_closed"
    assert "the case ended" in entry.data["decision"]["reason"]
    assert contacts(services, "B-paid") == []
    assert not Path(settings.outbox_sink_dir, "sms").exists() or not any(
        Path(settings.outbox_sink_dir, "sms").glob("*.json")
    )
    assert [(b.rule, b.action) for b in blocks(services, "B-paid")] == [
        ("quiet_hours", "defer"),
        ("case_closed", "drop"),
    ]


def test_a_kept_plan_an_open_dispute_and_an_opt_out_drop_collection_messages(
    services: Services, worker: Worker, compliance_deployed: dict[str, Any], start: StartCase
) -> None:
    plan = start("c_burst", borrower_id="B-plan", burst=1, plan_kept=True)
    dispute = start("c_burst", borrower_id="B-dispute", burst=1, dispute_open=True)
    opted = start("c_burst", borrower_id="B-opt", burst=1, contact_opt_outs=["sms"])
    worker.run_once()
    for case_id, rule in ((plan, "plan_kept"), (dispute, "dispute_open"), (opted, "opted_out")):
        [message] = outbox(services, case_id)
        assert message.status == "dropped", rule
        [entry] = history(services, case_id, "contact_dropped")
        assert entry.data["decision"]["rule"] == rule
    assert contacts(services) == []


def test_an_sms_to_an_emergency_contact_is_only_for_an_unreachable_borrower_and_never_about_the_debt(
    services: Services, worker: Worker, client: TestClient, auth: TokenFactory, start: StartCase
) -> None:
    diagram = (Path(__file__).parent / "diagrams" / "c_burst.bpmn").read_text()
    to_contact = diagram.replace(
        '<spiffworkflow:parameter id="template" type="str" value="&quot;sms_reminder.txt.j2&quot;" />',
        '<spiffworkflow:parameter id="target" type="str" value="&quot;emergency_contact&quot;" />'
        '<spiffworkflow:parameter id="discloses_debt" type="bool" value="discloses" />',
    )
    files = bundle(extra={"c_burst.bpmn": to_contact.encode()})
    assert client.post("/api/v1/definitions", headers=auth("compliance"), files=files).status_code == 201
    reachable = start("c_burst", borrower_id="B-e1", burst=1, discloses=False)
    telling = start("c_burst", borrower_id="B-e2", burst=1, discloses=True, unreachable=True)
    lost = start("c_burst", borrower_id="B-e3", burst=1, discloses=False, unreachable=True)
    worker.run_once()
    assert [m.status for m in outbox(services, reachable)] == ["dropped"]
    assert "unreachable" in history(services, reachable, "contact_dropped")[0].data["decision"]["reason"]
    assert [m.status for m in outbox(services, telling)] == ["dropped"]
    assert "never be disclosed" in history(services, telling, "contact_dropped")[0].data["decision"]["reason"]
    assert [m.status for m in outbox(services, lost)] == ["sent"]
    [contact] = contacts(services, "B-e3")
    assert contact.target == "emergency_contact"


def test_the_newest_deployed_policy_governs_running_cases_pinned_to_older_versions(
    services: Services,
    client: TestClient,
    auth: TokenFactory,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    case_id = start("c_hourly_sms", borrower_id="B-law", rounds=2)  # version 1, policy 2025.1
    worker.run_once()
    assert [m.status for m in outbox(services, case_id)] == ["sent"]

    stricter = policy_with(
        ('policy_version: "2025.1"', 'policy_version: "2025.2"'),
        ("max_contacts: 6", "max_contacts: 1"),
    )
    deployed = client.post("/api/v1/definitions", headers=auth("compliance"), files=bundle(stricter))
    assert deployed.status_code == 201 and deployed.json()["versions"]["c_hourly_sms"] == 2
    policy = client.get("/api/v1/compliance/policy", headers=auth("auditor")).json()
    assert policy["in_force"]["policy_version"] == "2025.2" and policy["in_force"]["source"] == "deployed"
    assert policy["in_force"]["contact"]["max_contacts_per_day"] == 1
    assert [v["policy_version"] for v in policy["versions"]] == ["2025.2", "2025.1"]
    assert [v["in_force"] for v in policy["versions"]] == [True, False]

    clock.advance(timedelta(hours=1, minutes=1))  # the case, still on version 1, sends its second SMS
    worker.run_once()
    first, second = outbox(services, case_id)
    assert first.status == "sent" and second.status == "pending"
    [entry] = history(services, case_id, "contact_deferred")
    assert entry.definition_version == 1
    assert entry.data["decision"]["policy_version"] == "2025.2"
    assert entry.data["decision"]["rule"] == "daily_contact_cap"
    assert [c.policy_version for c in contacts(services, "B-law")] == ["2025.1"]


def test_a_send_interrupted_by_a_crash_is_decided_again_and_counted_once(
    services: Services,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    case_id = start("c_burst", borrower_id="B-crash", burst=2)
    first, second = outbox(services, case_id)
    # a worker reserved both contacts, then died before sending either
    for message in (first, second):
        assert write_with_retry(services.db, lambda s, m=message: worker.outbox._clear(s, m.id)) is not None
    assert [c.connected for c in contacts(services, "B-crash")] == [None, None]

    clock.advance(timedelta(minutes=5))  # the leases ran out; another round picks them up
    worker.run_once()
    assert [m.status for m in outbox(services, case_id)] == ["sent", "sent"]
    recorded = contacts(services, "B-crash")
    assert [c.connected for c in recorded] == [True, True]  # the reservations were reused
    assert {c.outbox_id for c in recorded} == {first.id, second.id}


def test_a_reservation_left_by_a_crash_keeps_counting_when_the_resend_is_deferred(
    services: Services,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    case_id = start("c_burst", borrower_id="B-crash-night", burst=1)
    [message] = outbox(services, case_id)
    assert write_with_retry(services.db, lambda s: worker.outbox._clear(s, message.id)) is not None
    clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    worker.run_once()
    [again] = outbox(services, case_id)
    assert again.status == "pending" and again.next_attempt_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    [kept] = contacts(services, "B-crash-night")
    assert kept.connected is None  # it may have gone out before the crash: it still counts
    clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    worker.run_once()
    [sent] = contacts(services, "B-crash-night")
    assert sent.connected is True and sent.id == kept.id
    assert outbox(services, case_id)[0].status == "sent"
