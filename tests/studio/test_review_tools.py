"""Four eyes around the edges (reject, withdraw, admin and owner refused, the approver deploys),
and the tools a page uses while editing: lint of unsaved text, instructions preview, simulation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.studio.conftest import KEY, edit, new_draft
from xinedai_workflow.bootstrap import Services

SMS = "templates/sms_reminder.txt.j2"


def _text(client: TestClient, headers: dict[str, str], draft_id: str, name: str) -> str:
    return client.get(f"/api/v1/drafts/{draft_id}/files/{name}", headers=headers).text


def test_reject_withdraw_and_who_may_approve_and_deploy(
    client: TestClient, auth: TokenFactory, shipped: dict[str, Any]
) -> None:
    admin, bob = auth("admin", sub="root"), auth("compliance", sub="bob")
    draft = new_draft(client, admin, "admin's change")
    url = f"/api/v1/drafts/{draft['draft_id']}"
    edit(client, admin, draft["draft_id"], SMS, "如已还款".encode(), "如您已还款".encode())
    assert client.post(f"{url}/approve", headers=bob, json={}).status_code == 409  # not submitted yet
    assert client.post(f"{url}/submit", headers=admin).status_code == 200
    own = client.post(f"{url}/approve", headers=admin, json={"note": "self"})
    assert own.status_code == 403 and own.json()["error"]["code"] == "four_eyes"
    assert client.post(f"{url}/approve", headers=auth("auditor"), json={}).status_code == 403

    rejected = client.post(f"{url}/reject", headers=bob, json={"note": "say 您 twice"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reviewer_note"]) == ("editing", "say 您 twice")
    edit(client, admin, draft["draft_id"], SMS, "如您已还款".encode(), "如您已经还款".encode())
    assert client.post(f"{url}/submit", headers=admin).status_code == 200
    approved = client.post(f"{url}/approve", headers=bob, json={"note": "fine"}).json()
    assert approved["status"] == "approved" and approved["approved_by"] == "bob"

    withdrawn = client.post(f"{url}/reject", headers=admin, json={"note": "one more thing"})
    assert withdrawn.status_code == 200 and withdrawn.json()["approved_by"] is None
    assert client.post(f"{url}/deploy", headers=bob).status_code == 403  # no longer its approver
    assert client.post(f"{url}/submit", headers=admin).status_code == 200
    assert client.post(f"{url}/approve", headers=bob, json={}).status_code == 200
    deployed = client.post(f"{url}/deploy", headers=bob)  # the approver may deploy too
    assert deployed.status_code == 201, deployed.text
    items = client.get("/api/v1/definitions", headers=auth("compliance")).json()
    assert [(i["version"], i["deployed_by"], i["approved_by"]) for i in items if i["key"] == KEY] == [
        (2, "bob", "bob")
    ]
    actions = [
        e["action"] for e in client.get(f"/api/v1/definitions/{KEY}/audit", headers=bob).json()["items"]
    ]
    assert actions.count("rejected") == 1 and actions.count("withdrawn") == 1 and actions[-1] == "deployed"
    # a draft identical to the version in force has nothing to deploy
    same = new_draft(client, admin, "no change")
    same_url = f"/api/v1/drafts/{same['draft_id']}"
    assert client.post(f"{same_url}/submit", headers=admin).status_code == 200
    assert client.post(f"{same_url}/approve", headers=bob, json={}).status_code == 200
    nothing = client.post(f"{same_url}/deploy", headers=admin)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_deploy"
    assert client.get(same_url, headers=admin).json()["status"] == "approved"
    assert len(client.get("/api/v1/definitions?all_versions=true", headers=bob).json()) == 2


def test_lint_checks_unsaved_text_and_changes_nothing(
    client: TestClient, auth: TokenFactory, shipped: dict[str, Any]
) -> None:
    alice = auth("compliance", sub="alice")
    draft = new_draft(client, alice)
    draft_id = draft["draft_id"]
    url = f"/api/v1/drafts/{draft_id}/lint"
    sms = _text(client, alice, draft_id, SMS)
    clean = client.post(url, headers=alice, json={"name": SMS, "content": sms})
    assert clean.status_code == 200 and clean.json() == {"problems": []}

    broken = client.post(
        url, headers=alice, json={"name": SMS, "content": sms.replace("{{ hotline }}", "{{ hotline }")}
    )
    problems = broken.json()["problems"]
    assert problems and all(p["file"] == SMS and p["severity"] == "error" for p in problems)
    assert "syntax" in problems[0]["message"]

    diagram = _text(client, alice, draft_id, "xinedai_overdue.bpmn")
    timer = diagram.replace(
        "<bpmn:timeDuration>call_retry_wait</bpmn:timeDuration>", "<bpmn:timeDuration>P3D</bpmn:timeDuration>"
    )
    found = client.post(url, headers=alice, json={"name": "xinedai_overdue.bpmn", "content": timer}).json()
    assert [p["element_id"] for p in found["problems"]] == ["retry_wait"]

    policy = _text(client, alice, draft_id, "contact_policy.yaml")
    assert client.post(
        url, headers=alice, json={"name": "contact_policy.yaml", "content": policy}
    ).json() == {"problems": []}
    bad_policy = client.post(url, headers=alice, json={"name": "contact_policy.yaml", "content": "rules: ["})
    assert bad_policy.json()["problems"][0]["message"].startswith("invalid YAML")
    form = client.post(url, headers=alice, json={"name": "forms/call_outcome.json", "content": '{"type": 5}'})
    assert form.json()["problems"] and form.json()["problems"][0]["file"] == "forms/call_outcome.json"
    assert client.post(url, headers=alice, json={"name": "../x.j2", "content": ""}).json()["problems"]
    assert client.post(url, headers=auth("collector"), json={"name": SMS, "content": sms}).status_code == 403

    after = client.get(f"/api/v1/drafts/{draft_id}", headers=alice).json()
    assert after["files"] == draft["files"]


def test_a_draft_is_simulated_against_the_version_in_force(
    client: TestClient, auth: TokenFactory, shipped: dict[str, Any], services: Services
) -> None:
    alice = auth("compliance", sub="alice")
    draft_id = new_draft(client, alice)["draft_id"]
    edit(client, alice, draft_id, "segmentation.dmn", b'<text>"P3D"</text>', b'<text>"P2D"</text>')
    url = f"/api/v1/drafts/{draft_id}/simulate"
    assert client.post(url, headers=alice, json={"cases": 0, "days": 2, "seed": 1}).status_code == 422
    assert (
        client.post(url, headers=auth("auditor"), json={"cases": 5, "days": 2, "seed": 1}).status_code == 403
    )
    accepted = client.post(url, headers=alice, json={"cases": 5, "days": 2, "seed": 1})
    assert accepted.status_code == 202, accepted.text
    simulation_id = accepted.json()["simulation_id"]
    queued = client.get(f"/api/v1/simulations/{simulation_id}", headers=alice).json()
    assert queued["request"]["baseline"] == {"source": "deployed", "key": KEY, "version": 1}
    assert queued["request"]["candidate"]["source"] == "files"
    assert queued["request"]["candidate"]["label"] == f"draft {draft_id}"

    assert services.simulation_jobs.run_next() is True
    done = client.get(f"/api/v1/simulations/{simulation_id}", headers=alice).json()
    assert done["status"] == "completed", done["error"]
    assert set(done["summary"]["variants"]) == {"baseline", "candidate"}
    audit = client.get(f"/api/v1/definitions/{KEY}/audit", headers=alice).json()["items"]
    assert (
        audit[-1]["action"] == "simulation_requested"
        and audit[-1]["detail"]["simulation_id"] == simulation_id
    )
