"""The hash-chained, append-only history: every write leaves an entry, tampering is found."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import TokenFactory
from tests.tasks.helpers import (
    collector,
    dba_connection,
    deploy_lanes,
    open_task,
    restore_append_only_guard,
    start,
    without_append_only_guard,
)
from xinedai_workflow.history.chain import GENESIS, entry_hash


def _history(
    client: TestClient, auth: TokenFactory, case_id: str, who: str = "auditor"
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = client.get(f"/api/v1/cases/{case_id}/history", headers=auth(who), params=params)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


def _verify(client: TestClient, auth: TokenFactory, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("auditor"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def worked_case(client: TestClient, auth: TokenFactory) -> str:
    """A t_lanes case with a claim, an unclaim, an assignment, a completion and a cancellation."""
    deploy_lanes(client, auth)
    case_id = start(client, auth)
    call = open_task(client, auth, case_id, "call")["task_id"]
    sup = auth("supervisor", groups=["collectors"], sub="sam")
    assert client.post(f"/api/v1/tasks/{call}/claim", headers=collector(auth)).status_code == 200
    assert client.post(f"/api/v1/tasks/{call}/unclaim", headers=collector(auth)).status_code == 200
    assert client.post(f"/api/v1/tasks/{call}/assign", headers=sup, json={"user": "bob"}).status_code == 200
    data = {"outcome": "refused", "notes": "hung up"}
    done = client.post(f"/api/v1/tasks/{call}/complete", headers=collector(auth, "bob"), json={"data": data})
    assert done.status_code == 200, done.text
    cancel = client.post(f"/api/v1/cases/{case_id}/cancel", headers=sup, json={"reason": "sold to agency"})
    assert cancel.status_code == 200, cancel.text
    return case_id


def test_every_write_appends_a_chained_entry(
    client: TestClient, auth: TokenFactory, worked_case: str
) -> None:
    entries = _history(client, auth, worked_case)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    by_people = [(e["action"], e["actor"], e["element_id"]) for e in entries if e["actor"] != "system"]
    assert by_people == [
        ("case_started", "system-user", None),
        ("task_claimed", "alice", "call"),
        ("task_unclaimed", "alice", "call"),
        ("task_assigned", "sam", "call"),
        ("task_completed", "bob", "call"),
        ("case_cancelled", "sam", None),
    ]
    completed = next(e for e in entries if e["action"] == "task_completed")
    assert completed["data"]["data"] == {"outcome": "refused", "notes": "hung up"}
    assert {e["definition_version"] for e in entries} == {1}
    assert next(e for e in entries if e["action"] == "case_cancelled")["data"] == {"reason": "sold to agency"}
    prev = GENESIS
    for entry in entries:
        assert entry["prev_hash"] == prev
        prev = entry["hash"]
    assert _verify(client, auth, worked_case) == {
        "valid": True,
        "entries": len(entries),
        "first_broken_seq": None,
        "reason": None,
    }


def test_the_hash_covers_every_field(client: TestClient, auth: TokenFactory, worked_case: str) -> None:
    """An auditor can recompute each hash from the entry (read unmasked, by admin)."""
    for entry in _history(client, auth, worked_case, who="admin"):
        recomputed = entry_hash(
            case_id=worked_case,
            seq=entry["seq"],
            at=datetime.fromisoformat(entry["at"]),
            actor=entry["actor"],
            action=entry["action"],
            element_id=entry["element_id"],
            data=entry["data"],
            definition_version=entry["definition_version"],
            prev_hash=entry["prev_hash"],
        )
        assert recomputed == entry["hash"], entry


def _tamper(database_url: str, statement: str, **params: Any) -> None:
    """Run `statement` on history_entries as a DBA would: with the append-only trigger off."""
    with dba_connection(database_url) as conn:
        without_append_only_guard(conn, "history_entries")
        conn.execute(text(statement), params)
        restore_append_only_guard(conn, "history_entries")


def _case_key(database_url: str, case_id: str) -> str:
    return case_id if database_url.startswith("postgresql") else uuid.UUID(case_id).hex


def test_editing_one_stored_row_is_reported_by_verify(
    client: TestClient, auth: TokenFactory, database_url: str, worked_case: str
) -> None:
    entries = _history(client, auth, worked_case, who="admin")
    completed = next(e for e in entries if e["action"] == "task_completed")
    key = _case_key(database_url, worked_case)
    postgres = database_url.startswith("postgresql")
    edits = {
        "data": ("CAST(:value AS jsonb)" if postgres else ":value", '{"outcome": "promise_to_pay"}'),
        "actor": (":value", "mallory"),
        "at": (":value", "2026-03-01 00:00:00+00" if postgres else "2026-03-01 00:00:00.000000"),
        "action": (":value", "task_cancelled"),
    }
    for column, (expression, value) in edits.items():
        for seq in (completed["seq"], 2):
            where = "WHERE case_id = :case AND seq = :seq"
            _tamper(
                database_url,
                f"UPDATE history_entries SET {column} = {expression} {where}",
                value=value,
                case=key,
                seq=seq,
            )
            report = _verify(client, auth, worked_case)
            assert report["valid"] is False and report["first_broken_seq"] == seq, (column, report)
            assert report["reason"] == "entry content does not match its hash"
            original = next(e for e in entries if e["seq"] == seq)[column]
            if column == "data":
                original = json.dumps(original)
            elif column == "at":
                original = datetime.fromisoformat(original)
            _tamper(
                database_url,
                f"UPDATE history_entries SET {column} = {expression} {where}",
                value=original,
                case=key,
                seq=seq,
            )
            assert _verify(client, auth, worked_case)["valid"] is True, (column, seq)


def test_a_deleted_entry_is_reported(
    client: TestClient, auth: TokenFactory, database_url: str, worked_case: str
) -> None:
    entries = _history(client, auth, worked_case)
    key = _case_key(database_url, worked_case)
    _tamper(
        database_url,
        "DELETE FROM history_entries WHERE case_id = :case AND seq = :last",
        case=key,
        last=len(entries),
    )
    report = _verify(client, auth, worked_case)
    assert report["valid"] is False and report["first_broken_seq"] == len(entries)
    assert report["reason"] == f"entries {len(entries)}..{len(entries)} are missing"
    _tamper(database_url, "DELETE FROM history_entries WHERE case_id = :case AND seq = 3", case=key)
    report = _verify(client, auth, worked_case)
    assert report["valid"] is False and report["first_broken_seq"] == 3
    assert report["reason"] == "entry 3 is missing"


def test_the_database_refuses_to_rewrite_append_only_tables(
    client: TestClient, auth: TokenFactory, database_url: str, worked_case: str
) -> None:
    client.get(f"/api/v1/cases/{worked_case}", headers=auth("admin"))  # an unmasked read: a log row
    for table in ("history_entries", "personal_data_reads"):
        with dba_connection(database_url) as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        for statement in (f"UPDATE {table} SET actor = 'mallory'", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"), dba_connection(database_url) as conn:
                conn.execute(text(statement))
    assert _verify(client, auth, worked_case)["valid"] is True


def test_no_endpoint_can_change_or_remove_history(client: TestClient) -> None:
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "history" in path or "audit" in path:
            assert set(operations) == {"get"}, path


def test_history_is_masked_for_readers_who_do_not_work_the_case(
    client: TestClient, auth: TokenFactory, worked_case: str
) -> None:
    masked = _history(client, auth, worked_case, who="auditor")[0]["data"]["variables"]["borrower"]
    assert masked["name"] == "王**" and masked["phone"] == "138****5678"
    assert masked["id_number"] == "1101**********1234" and masked["id"] == "B-0001"
    plain = _history(client, auth, worked_case, who="admin")[0]["data"]["variables"]["borrower"]
    assert plain["name"] == "王小明"
    reads = client.get(
        "/api/v1/audit/personal-data-reads", headers=auth("auditor"), params={"case_id": worked_case}
    ).json()["items"]
    history_reads = [r for r in reads if r["access"] == "history"]
    assert [r["actor"] for r in history_reads] == ["admin-user"]  # one page of 7 held personal data
    assert "entry_1.variables.borrower.phone" in history_reads[0]["fields"]
