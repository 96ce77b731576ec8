"""The 2025-2026 contact rules end to end: unanswered attempts per number, emergency contacts only
after a recorded reason and never after a refusal, first-contact identification at deploy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.agencies.conftest import agency_token, place, register
from tests.conftest import PROCESSES
from tests.scenarios.conftest import Flow
from xinedai_workflow.compliance.first_contact import first_contact_templates
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.errors import ServiceError

NO_ANSWER = {"channel": "call", "outcome": "no_answer"}


def test_the_seventh_unanswered_call_to_a_number_waits_for_tomorrow(flow: Flow) -> None:
    register(flow, "AG-A")
    case_id, _ = flow.overdue()
    place(flow, "AG-A", case_id)
    headers = agency_token(flow, "AG-A")
    url = f"/api/v1/agency/cases/{case_id}/contacts"
    statuses = [flow.client.post(url, headers=headers, json=NO_ANSWER).status_code for _ in range(6)]
    assert statuses == [201] * 6
    seventh = flow.client.post(url, headers=headers, json=NO_ANSWER)
    assert seventh.status_code == 409
    details = seventh.json()["error"]["details"]
    assert details["rule"] == "unanswered_attempts_per_number"
    assert details["next_allowed_at"].startswith("2026-03-03T00:00:00")  # 08:00 Shanghai tomorrow
    # another number of the borrower (e.g. their office line) may still be tried today
    office = flow.client.post(url, headers=headers, json={**NO_ANSWER, "contact_number": "010-88886666"})
    assert office.status_code == 201
    # the bank's own collector dials the same number: the same count applies
    check = flow.client.get(
        f"/api/v1/cases/{case_id}/contact-check",
        headers=flow.auth("collector", groups=["collectors"], sub="alice"),
    ).json()
    assert check["allowed"] is False and check["rule"] == "unanswered_attempts_per_number"
    assert check["limits"]["max_unanswered_attempts_per_number"] == 6


def test_an_emergency_contact_only_with_a_recorded_reason_and_never_after_a_refusal(flow: Flow) -> None:
    register(flow, "AG-A")
    case_id, _ = flow.overdue()
    place(flow, "AG-A", case_id)
    headers = agency_token(flow, "AG-A")
    url = f"/api/v1/agency/cases/{case_id}/contacts"
    ec = {"channel": "call", "contact_target": "emergency_contact", "contact_target_id": "ec-1"}
    before = flow.client.post(url, headers=headers, json={**ec, "outcome": "no_answer"})
    assert before.status_code == 409 and before.json()["error"]["details"]["rule"] == "third_party"

    collector = flow.auth("collector", groups=["collectors"], sub="alice")
    facts_url = f"/api/v1/cases/{case_id}/contact-facts"
    bad = flow.client.post(
        facts_url, headers=collector, json={"kind": "emergency_contact_refused", "reason": "x"}
    )
    assert bad.status_code == 422
    assert (
        flow.client.post(facts_url, headers=collector, json={"kind": "asleep", "reason": "x"}).status_code
        == 422
    )
    recorded = flow.client.post(
        facts_url, headers=collector, json={"kind": "unreachable", "reason": "三日内拨打本人电话均为空号"}
    )
    assert recorded.status_code == 201, recorded.text
    refused = flow.client.post(url, headers=headers, json={**ec, "outcome": "refused"})
    assert refused.status_code == 201  # allowed now; the contact refused any further call
    again = flow.client.post(url, headers=headers, json={**ec, "outcome": "no_answer"})
    assert again.status_code == 409 and "refused" in again.json()["error"]["message"]
    facts = flow.client.get(facts_url, headers=collector).json()
    assert facts["refused_emergency_contacts"] == ["ec-1"] and facts["unreachable"] is True
    assert [f["kind"] for f in facts["items"]] == ["unreachable", "emergency_contact_refused"]

    # reached again: emergency contacts are off limits again, whoever they are
    flow.client.post(facts_url, headers=collector, json={"kind": "reachable", "reason": "本人回电"})
    other = flow.client.post(
        url, headers=headers, json={**ec, "contact_target_id": "ec-2", "outcome": "no_answer"}
    )
    assert other.status_code == 409
    # a borrower recorded as deceased warrants an emergency contact again (not the one who refused)
    deceased = flow.client.post(facts_url, headers=collector, json={"kind": "deceased", "reason": "家属告知"})
    assert deceased.status_code == 201
    allowed = flow.client.post(
        url, headers=headers, json={**ec, "contact_target_id": "ec-2", "outcome": "no_answer"}
    )
    assert allowed.status_code == 201
    assert (
        flow.client.post(
            facts_url, headers=flow.auth("auditor"), json={"kind": "deceased", "reason": "x"}
        ).status_code
        == 403
    )
    assert flow.client.get(facts_url, headers=flow.auth("collector", groups=["legal"])).status_code == 404


def _bundle(tmp_path: Path) -> Path:
    target = tmp_path / "processes"
    shutil.copytree(PROCESSES, target)
    return target


def test_the_first_message_of_a_case_must_name_the_collector(flow: Flow, tmp_path: Path) -> None:
    files = read_bundle_dir([PROCESSES])
    assert first_contact_templates(files) == {
        "templates/sms_reminder.txt.j2",
        "templates/demand_letter.txt.j2",
        "templates/email_plan_confirmation.txt.j2",
        "templates/sms_credit_report_notice.txt.j2",
    }
    directory = _bundle(tmp_path)
    sms = directory / "templates" / "sms_reminder.txt.j2"
    sms.write_text(
        sms.read_text(encoding="utf-8").replace(
            '{{ collector_name | default(bank ~ "个人贷款催收中心") }}提醒：', ""
        ),
        encoding="utf-8",
    )
    with pytest.raises(ServiceError) as refused:
        flow.services.definitions.deploy(read_bundle_dir([directory]), "compliance-test")
    found = [(d["file"], d["element_id"]) for d in refused.value.details]
    assert found == [("templates/sms_reminder.txt.j2", "collector_identity")]
    # a later message need not repeat it: the e-mail reminder never names the collector
    assert "collector" not in (directory / "templates" / "email_reminder.txt.j2").read_text(encoding="utf-8")


def test_a_template_may_not_pose_as_a_court(flow: Flow, tmp_path: Path) -> None:
    directory = _bundle(tmp_path)
    email = directory / "templates" / "email_reminder.txt.j2"
    email.write_text(email.read_text(encoding="utf-8") + "\n本院将依法处理。\n", encoding="utf-8")
    with pytest.raises(ServiceError) as refused:
        flow.services.definitions.deploy(read_bundle_dir([directory]), "compliance-test")
    assert [d["element_id"] for d in refused.value.details] == ["impersonation"]
