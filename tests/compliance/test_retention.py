"""Contact records and call-recording metadata are kept for the policy's periods, then purged by
the worker; the purge is written to the case history and never touches open cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.compliance.conftest import StartCase, blocks, bundle, contacts, history, policy_with, record_call
from tests.conftest import TokenFactory

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.worker.runner import Worker


def test_retention_purges_closed_cases_only_after_the_period(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    clock: ManualClock,
    worker: Worker,
    start: StartCase,
) -> None:
    policy = policy_with(("call_recordings_days: 1095", "call_recordings_days: 730"))
    assert (
        client.post("/api/v1/definitions", headers=auth("compliance"), files=bundle(policy)).status_code
        == 201
    )
    alice = auth("collector", groups=["collectors"], sub="alice")
    closed = start("c_calls", borrower_id="B-ret")
    assert record_call(client, alice, closed, outcome="no_answer", recording_ref="REC-1").status_code == 200
    assert record_call(client, alice, closed, outcome="claims_paid", recording_ref="REC-2").status_code == 200
    still_open = start("c_calls", borrower_id="B-ret")
    assert (
        record_call(client, alice, still_open, outcome="hardship", recording_ref="REC-3").status_code == 200
    )
    dropped = start("c_burst", borrower_id="B-ret2", burst=1, dispute_open=True)
    worker.run_once()
    cancelled = client.post(
        f"/api/v1/cases/{dropped}/cancel", headers=auth("admin"), json={"reason": "dispute upheld"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert client.get(f"/api/v1/cases/{closed}", headers=auth("auditor")).json()["status"] == "completed"
    assert len(contacts(services)) == 3 and len(blocks(services)) == 1

    clock.advance(timedelta(days=730, hours=-1))  # recordings are kept at least 730 days
    worker.run_once()
    assert {c.recording_ref for c in contacts(services)} == {"REC-1", "REC-2", "REC-3"}

    clock.advance(timedelta(hours=2))
    worker.run_once()
    assert [c.recording_ref for c in contacts(services)] == [None, None, "REC-3"]
    [entry] = history(services, closed, "contact_records_purged")
    assert entry.actor == "system:retention"
    assert entry.data["call_recordings"] == 2 and entry.data["contact_records"] == 0
    assert entry.data["call_recordings_days"] == 730 and entry.data["policy_version"] == "2025.1"

    clock.advance(timedelta(days=365, hours=-2))  # 1095 days after the contacts, less an hour
    worker.run_once()
    assert len(contacts(services)) == 3

    clock.advance(timedelta(hours=2))
    worker.run_once()
    left = contacts(services)
    assert [c.recording_ref for c in left] == ["REC-3"]  # the open case keeps everything
    assert blocks(services) == []
    entries = history(services, closed, "contact_records_purged")
    assert [e.data["contact_records"] for e in entries] == [0, 2]
    [purged_block] = history(services, dropped, "contact_records_purged")
    assert purged_block.data["blocked_attempts"] == 1
    assert history(services, still_open, "contact_records_purged") == []
    for case_id in (closed, dropped, still_open):
        verify = client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("auditor")).json()
        assert verify["valid"] is True

    clock.advance(timedelta(days=1))
    worker.run_once()  # nothing more to purge: no new entries
    assert len(history(services, closed, "contact_records_purged")) == 2


def test_the_purge_runs_once_per_interval(
    services: Services, clock: ManualClock, worker: Worker, compliance_deployed: dict[str, Any]
) -> None:
    calls: list[int] = []
    original = services.compliance.retention.run

    def counting() -> Any:
        calls.append(1)
        return original()

    services.compliance.retention.run = counting  # type: ignore[method-assign]
    worker.run_once()
    worker.run_once()
    clock.advance(timedelta(seconds=services.settings.retention_purge_interval_seconds))
    worker.run_once()
    assert len(calls) == 2
