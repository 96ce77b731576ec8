"""Drafts over HTTP: copied from a deployed version, files read and written by their owner only,
untrusted files refused with nothing changed, roles enforced, every change in the audit history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, TokenFactory
from tests.studio.conftest import KEY, edit, new_draft

SMS = "templates/sms_reminder.txt.j2"


def test_a_draft_copies_every_file_of_the_version_and_tracks_changes(
    client: TestClient, auth: TokenFactory, shipped: dict[str, object]
) -> None:
    alice = auth("compliance", sub="alice")
    draft = new_draft(client, alice)
    assert draft["owner"] == "alice" and draft["status"] == "editing" and draft["base_version"] == 1
    names = {f["name"] for f in draft["files"]}
    assert {"xinedai_overdue.bpmn", "segmentation.dmn", SMS, "contact_policy.yaml"} <= names
    assert "forms/call_outcome.json" in names and "tests/test_xinedai_overdue.json" in names
    assert not any(f["changed"] for f in draft["files"])

    got = client.get(f"/api/v1/drafts/{draft['draft_id']}/files/xinedai_overdue.bpmn", headers=alice)
    assert got.status_code == 200 and got.content == (PROCESSES / "xinedai_overdue.bpmn").read_bytes()
    assert got.headers["content-type"].startswith("application/xml")

    changed = edit(client, alice, draft["draft_id"], SMS, "如已还款".encode(), "如您已还款".encode())
    assert [f["name"] for f in changed["files"] if f["changed"]] == [SMS]

    auditor = auth("auditor", sub="audrey")
    listed = client.get("/api/v1/drafts?mine=true", headers=alice).json()["items"]
    assert [d["draft_id"] for d in listed] == [draft["draft_id"]]
    assert client.get("/api/v1/drafts?mine=true", headers=auditor).json()["items"] == []
    assert len(client.get("/api/v1/drafts?status=editing", headers=auditor).json()["items"]) == 1
    assert client.get(f"/api/v1/drafts/{draft['draft_id']}", headers=auditor).status_code == 200

    deleted = client.delete(f"/api/v1/drafts/{draft['draft_id']}/files/README.md", headers=alice)
    assert deleted.status_code == 200 and deleted.json()["removed_files"] == ["README.md"]

    audit = client.get(f"/api/v1/definitions/{KEY}/audit", headers=auditor)
    assert audit.status_code == 200
    actions = [(e["actor"], e["action"], e["draft_id"]) for e in audit.json()["items"]]
    assert actions == [
        ("alice", "draft_created", draft["draft_id"]),
        ("alice", "file_saved", draft["draft_id"]),
        ("alice", "file_deleted", draft["draft_id"]),
    ]
    assert audit.json()["items"][1]["detail"]["file"] == SMS


def test_untrusted_files_are_refused_and_nothing_changes(
    client: TestClient, auth: TokenFactory, shipped: dict[str, object]
) -> None:
    alice = auth("compliance", sub="alice")
    draft = new_draft(client, alice)
    url = f"/api/v1/drafts/{draft['draft_id']}/files"
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    cases = [
        ("xinedai_overdue.bpmn", bomb, "DTDs"),
        ("xinedai_overdue.bpmn", b"<definitions><unclosed></definitions>", ""),
        ("forms/call_outcome.json", b'{"type": "object",', "invalid JSON"),
        ("contact_policy.yaml", b"rules: [unclosed", "invalid YAML"),
        (SMS, "短信".encode("gb18030"), "UTF-8"),
        ("evil.exe", b"MZ", "unsupported file type"),
        ("big.bpmn", b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>", "larger than"),
    ]
    for name, content, says in cases:
        response = client.put(f"{url}/{name}", headers=alice, content=content)
        assert response.status_code == 422, (name, response.text)
        assert says in response.text, (name, response.text)
    for name in ("../outside.bpmn", "a/../../b.bpmn", "a//b.bpmn"):
        response = client.put(f"{url}/{name}", headers=alice, content=b"<x/>")
        assert response.status_code in (404, 422), (name, response.status_code)
    response = client.put(f"{url}//etc/passwd.txt", headers=alice, content=b"x")
    assert response.status_code in (404, 422)
    for encoded in ("..%2Foutside.bpmn", "forms%2F..%2F..%2Fx.json", "%2Fetc%2Fx.txt", "a%5Cb.txt"):
        response = client.put(f"{url}/{encoded}", headers=alice, content=b"<x/>")
        assert response.status_code == 422, (encoded, response.text)
        assert "file name" in response.text
    after = client.get(f"/api/v1/drafts/{draft['draft_id']}", headers=alice).json()
    assert after["files"] == draft["files"] and after["updated_at"] == draft["updated_at"]
    audit = client.get(f"/api/v1/definitions/{KEY}/audit", headers=alice).json()["items"]
    assert [e["action"] for e in audit] == ["draft_created"]


def test_roles_and_ownership(client: TestClient, auth: TokenFactory, shipped: dict[str, object]) -> None:
    alice, bob = auth("compliance", sub="alice"), auth("compliance", sub="bob")
    draft = new_draft(client, alice)
    url = f"/api/v1/drafts/{draft['draft_id']}"
    for role in ("collector", "supervisor", "system", "legal"):
        other = auth(role, sub=f"{role}-1")
        assert client.get("/api/v1/drafts", headers=other).status_code == 403
        assert client.get(url, headers=other).status_code == 403
        assert client.get(f"/api/v1/definitions/{KEY}/audit", headers=other).status_code == 403
        created = client.post("/api/v1/drafts", headers=other, json={"key": KEY, "title": "x"})
        assert created.status_code == 403
    auditor = auth("auditor", sub="audrey")
    assert client.put(f"{url}/files/{SMS}", headers=auditor, content=b"x").status_code == 403
    assert client.post("/api/v1/drafts", headers=auditor, json={"key": KEY, "title": "x"}).status_code == 403

    not_owner = client.put(f"{url}/files/{SMS}", headers=bob, content="改".encode())
    assert not_owner.status_code == 403 and not_owner.json()["error"]["code"] == "not_draft_owner"
    assert client.delete(f"{url}/files/{SMS}", headers=bob).status_code == 403
    assert client.post(f"{url}/discard", headers=bob).status_code == 403
    admin = auth("admin", sub="root")
    assert client.put(f"{url}/files/{SMS}", headers=admin, content="改".encode()).status_code == 403

    missing = client.post("/api/v1/drafts", headers=alice, json={"key": "nope", "title": "x"})
    assert missing.status_code == 404
    assert (
        client.post(
            "/api/v1/drafts", headers=alice, json={"key": KEY, "base_version": 7, "title": "x"}
        ).status_code
        == 404
    )
    assert client.post("/api/v1/drafts", headers=alice, json={"key": KEY, "title": ""}).status_code == 422
    assert client.get("/api/v1/drafts/not-a-uuid", headers=alice).status_code == 422
    unknown = "/api/v1/drafts/00000000-0000-0000-0000-000000000000"
    assert client.get(unknown, headers=alice).status_code == 404
    assert client.get(f"{url}/files/nope.bpmn", headers=alice).status_code == 404

    discarded = client.post(f"{url}/discard", headers=alice)
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    late = client.put(f"{url}/files/{SMS}", headers=alice, content="改".encode())
    assert late.status_code == 409 and late.json()["error"]["code"] == "draft_status"
