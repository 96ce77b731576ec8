"""The studio's whole loop over HTTP on SQLite and PostgreSQL: a draft of the shipped version, a
DMN wait and a template sentence changed, the proof (diff, green tests, coverage), a broken timer
pinned on its element, four eyes, deploy with the approval kept, a running case moved by a batch."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, overdue_event
from tests.studio.conftest import KEY, edit, new_draft
from xinedai_workflow.worker.runner import Worker

SMS = "templates/sms_reminder.txt.j2"
TIMER = b"<bpmn:timeDuration>call_retry_wait</bpmn:timeDuration>"


def proof(client: TestClient, headers: dict[str, str], draft_id: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/drafts/{draft_id}/proof", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_edit_prove_review_deploy_and_roll_out(
    client: TestClient, auth: TokenFactory, shipped: dict[str, Any], worker: Worker
) -> None:
    alice, bob = auth("compliance", sub="alice"), auth("compliance", sub="bob")
    event = overdue_event()
    started = client.post("/api/v1/events/overdue", headers=auth("system"), json=event)
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]

    draft = new_draft(client, alice)
    draft_id = draft["draft_id"]
    edit(client, alice, draft_id, "segmentation.dmn", b'<text>"P3D"</text>', b'<text>"P2D"</text>')
    edit(client, alice, draft_id, SMS, "如已还款".encode(), "如您已还款".encode())

    good = proof(client, alice, draft_id)
    assert good["ok"] is True, good["problems"]
    assert good["tests"]["failed"] == 0 and good["tests"]["passed"] >= 1
    assert all(item["passed"] for item in good["tests"]["items"])
    coverage = good["tests"]["coverage"][KEY]
    assert coverage["call_borrower"] >= 1 and all(isinstance(n, int) for n in coverage.values())
    diff = good["diff"]
    assert diff["against_version"] == 1 and diff["elements"] == []
    assert [(r["file"], r["decision_id"], r["rule_id"], r["change"]) for r in diff["dmn_rows"]] == [
        ("segmentation.dmn", "segmentation", "Rule_hardship", "changed")
    ]
    assert '"P2D"' in diff["dmn_rows"][0]["detail"][0]["new"]
    assert {f["name"]: f["change"] for f in diff["files"]} == {"segmentation.dmn": "changed", SMS: "changed"}

    # a timer whose duration is not quoted: the proof pins it on the timer event, submit refuses
    broken = edit(
        client, alice, draft_id, "xinedai_overdue.bpmn", TIMER, b"<bpmn:timeDuration>P3D</bpmn:timeDuration>"
    )
    assert [f["name"] for f in broken["files"] if f["changed"]] == [
        "segmentation.dmn",
        SMS,
        "xinedai_overdue.bpmn",
    ]
    bad = proof(client, alice, draft_id)
    assert bad["ok"] is False
    pinned = [p for p in bad["problems"] if p["element_id"] == "retry_wait"]
    assert pinned and pinned[0]["file"] == "xinedai_overdue.bpmn" and pinned[0]["severity"] == "error"
    assert "quote" in pinned[0]["message"].lower()
    assert any(e["element_id"] == "retry_wait" and e["change"] == "changed" for e in bad["diff"]["elements"])
    refused = client.post(f"/api/v1/drafts/{draft_id}/submit", headers=alice)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "proof_failed"
    assert client.get(f"/api/v1/drafts/{draft_id}", headers=alice).json()["status"] == "editing"
    edit(
        client, alice, draft_id, "xinedai_overdue.bpmn", b"<bpmn:timeDuration>P3D</bpmn:timeDuration>", TIMER
    )

    # four eyes
    assert client.post(f"/api/v1/drafts/{draft_id}/submit", headers=bob).status_code == 403
    submitted = client.post(f"/api/v1/drafts/{draft_id}/submit", headers=alice)
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review", submitted.text
    assert (
        client.put(f"/api/v1/drafts/{draft_id}/files/{SMS}", headers=alice, content=b"x").status_code == 409
    )
    early = client.post(f"/api/v1/drafts/{draft_id}/deploy", headers=alice)
    assert early.status_code == 409
    own = client.post(f"/api/v1/drafts/{draft_id}/approve", headers=alice, json={"note": "mine"})
    assert own.status_code == 403 and own.json()["error"]["code"] == "four_eyes"
    approved = client.post(f"/api/v1/drafts/{draft_id}/approve", headers=bob, json={"note": "ok, 2 days"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["approved_by"], body["reviewer_note"]) == ("approved", "bob", "ok, 2 days")
    assert len(body["approved_sha256"]) == 64
    late = client.put(f"/api/v1/drafts/{draft_id}/files/{SMS}", headers=alice, content="改".encode())
    assert late.status_code == 409
    outsider = client.post(f"/api/v1/drafts/{draft_id}/deploy", headers=auth("compliance", sub="carl"))
    assert outsider.status_code == 403

    deployed = client.post(f"/api/v1/drafts/{draft_id}/deploy", headers=alice)
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["key"] == KEY and deployed.json()["version"] == 2
    assert deployed.json()["sha256"] and deployed.json()["tests"]["failed"] == 0
    after = client.get(f"/api/v1/drafts/{draft_id}", headers=alice).json()
    assert (after["status"], after["deployed_version"]) == ("deployed", 2)
    assert client.post(f"/api/v1/drafts/{draft_id}/deploy", headers=alice).status_code == 409
    items = client.get("/api/v1/definitions?all_versions=true", headers=auth("auditor")).json()
    assert [(i["version"], i["deployed_by"], i["approved_by"]) for i in items if i["key"] == KEY] == [
        (1, "carol", None),
        (2, "alice", "bob"),
    ]
    stored = client.get(f"/api/v1/definitions/{KEY}/versions/2/files/{SMS}", headers=auth("auditor"))
    assert "如您已还款" in stored.text

    # roll-out: the running case of version 1 moves to version 2 through a batch
    batch = {
        "operation": "migrate",
        "filter": {"process_key": KEY, "version": 1},
        "params": {"to_version": 2, "reason": "studio draft " + draft_id},
    }
    plan = client.post("/api/v1/batches", headers=alice, json={**batch, "dry_run": True})
    assert plan.status_code == 200 and plan.json()["total"] == 1, plan.text
    run = client.post("/api/v1/batches", headers=alice, json=batch)
    assert run.status_code == 202, run.text
    worker.run_once()
    progress = client.get(f"/api/v1/batches/{run.json()['batch_id']}", headers=alice).json()
    assert (progress["status"], progress["done"], progress["failed"]) == ("completed", 1, 0), progress
    case = client.get(f"/api/v1/cases/{case_id}", headers=auth("compliance")).json()
    assert case["definition"] == {"key": KEY, "version": 2}

    audit = client.get(f"/api/v1/definitions/{KEY}/audit?draft_id={draft_id}", headers=auth("auditor"))
    actions = [(e["actor"], e["action"]) for e in audit.json()["items"]]
    assert actions == [
        ("alice", "draft_created"),
        ("alice", "file_saved"),
        ("alice", "file_saved"),
        ("alice", "proof_run"),
        ("alice", "file_saved"),
        ("alice", "proof_run"),
        ("alice", "file_saved"),
        ("alice", "submitted"),
        ("bob", "approved"),
        ("alice", "deployed"),
    ]
    deployed_entry = audit.json()["items"][-1]
    assert deployed_entry["version"] == 2 and deployed_entry["detail"]["approved_by"] == "bob"
