"""Deploy and dry-run answers carry what changed against each key's latest version; the version
keeps it (`GET .../versions/{v}/diff`)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, TokenFactory
from xinedai_workflow.definitions.diff import version_diff
from xinedai_workflow.definitions.service import read_bundle_dir


def _deploy(client: TestClient, auth: TokenFactory, files: dict[str, bytes], dry_run: bool = False) -> Any:
    parts = [("files", (n, c, "application/octet-stream")) for n, c in sorted(files.items())]
    data = {"dry_run": "true"} if dry_run else {}
    return client.post("/api/v1/definitions", headers=auth("compliance"), files=parts, data=data)


def _edited() -> dict[str, bytes]:
    files = read_bundle_dir([PROCESSES])
    files["xinedai_overdue.bpmn"] = files["xinedai_overdue.bpmn"].replace(
        b'<spiffworkflow:property name="dueIn" value="P1D"/>',
        b'<spiffworkflow:property name="dueIn" value="PT4H"/>',
    )
    files["segmentation.dmn"] = files["segmentation.dmn"].replace(
        b"<text>&lt;= 5000</text>", b"<text>&lt;= 2000</text>"
    )
    sms = "templates/sms_reminder.txt.j2"
    files[sms] = files[sms].replace("如已还款".encode(), "如您已还款".encode())
    return files


def test_the_diff_names_elements_rows_and_text_and_is_kept(client: TestClient, auth: TokenFactory) -> None:
    first = _deploy(client, auth, read_bundle_dir([PROCESSES]))
    assert first.status_code == 201, first.text
    assert first.json()["diff"]["xinedai_overdue"]["against_version"] is None

    preview = _deploy(client, auth, _edited(), dry_run=True)
    assert preview.status_code == 200, preview.text
    diff = preview.json()["diff"]["xinedai_overdue"]
    assert diff["against_version"] == 1
    by_id = {e["element_id"]: e for e in diff["elements"]}
    assert set(by_id) == {"call_borrower", "Rule_first_time"}
    assert by_id["call_borrower"]["changes"] == [{"attribute": "property dueIn", "old": "P1D", "new": "PT4H"}]
    row = by_id["Rule_first_time"]
    assert row["type"] == "rule" and "<= 2000" in row["changes"][0]["new"]
    texts = {f["file"]: f for f in diff["files"]}
    assert (
        "+" in texts["templates/sms_reminder.txt.j2"]["diff"]
        and "如您已还款" in texts["templates/sms_reminder.txt.j2"]["diff"]
    )

    deployed = _deploy(client, auth, _edited())
    assert deployed.status_code == 201 and deployed.json()["version"] == 2
    kept = client.get("/api/v1/definitions/xinedai_overdue/versions/2/diff", headers=auth("auditor"))
    assert kept.status_code == 200, kept.text
    assert kept.json()["against_version"] == 1 and kept.json()["elements"] == diff["elements"]
    assert (
        client.get("/api/v1/definitions/xinedai_overdue/versions/9/diff", headers=auth("auditor")).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/definitions/xinedai_overdue/versions/2/diff", headers=auth("collector")
        ).status_code
        == 403
    )


def test_schema_default_attributes_written_or_dropped_are_no_change() -> None:
    """bpmn-js drops `cancelActivity="true"` on save; the process is the same, so no change."""
    old = read_bundle_dir([PROCESSES])
    assert b'cancelActivity="true"' in old["xinedai_overdue.bpmn"]
    new = dict(old)
    new["xinedai_overdue.bpmn"] = old["xinedai_overdue.bpmn"].replace(b' cancelActivity="true"', b"")
    assert version_diff(old, new)["elements"] == []
    # a real change of the same attribute still shows
    new["xinedai_overdue.bpmn"] = old["xinedai_overdue.bpmn"].replace(
        b'cancelActivity="true"', b'cancelActivity="false"', 1
    )
    (change,) = version_diff(old, new)["elements"]
    assert change["change"] == "changed"
    assert change["changes"] == [{"attribute": "@cancelActivity", "old": None, "new": "false"}]
