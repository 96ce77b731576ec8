"""At deploy, the policy file is validated and every template is linted; failures name the line."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.compliance.conftest import HERE, POLICY, SMS_TEMPLATE, bundle, part, policy_with
from tests.conftest import PROCESSES, TokenFactory, diagram_files

THREAT_LINE = "如不还款，我们将上门找你，后果自负。"


def deploy(client: TestClient, auth: TokenFactory, files: Any) -> Any:
    return client.post("/api/v1/definitions", headers=auth("compliance"), files=files)


def threatening_sms() -> bytes:
    lines = SMS_TEMPLATE.decode().splitlines()
    lines.insert(7, THREAT_LINE)  # becomes line 8
    return ("\n".join(lines) + "\n").encode()


def test_a_template_with_a_threat_is_refused_naming_the_phrase_and_line(
    client: TestClient, auth: TokenFactory
) -> None:
    answer = deploy(client, auth, bundle(extra={"templates/sms_threat.txt.j2": threatening_sms()}))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_definition"
    found = [d for d in error["details"] if d["file"] == "templates/sms_threat.txt.j2"]
    assert {d["element_id"] for d in found} == {"threat"}
    assert {d["line"] for d in found} == {8}
    messages = " ".join(d["message"] for d in found)
    assert '"上门"' in messages and '"后果自负"' in messages and "line 8" in messages
    listed = client.get("/api/v1/definitions", headers=auth("compliance")).json()
    assert listed == []  # nothing was stored


def test_missing_required_elements_are_named(client: TestClient, auth: TokenFactory) -> None:
    bare = "【{{ bank_name }}】{{ borrower_name }}您好，请尽快处理。\n".encode()
    answer = deploy(client, auth, bundle(extra={"templates/sms_bare.txt.j2": bare}))
    assert answer.status_code == 422
    found = {d["element_id"]: d for d in answer.json()["error"]["details"]}
    assert set(found) == {"amount_owed", "how_to_pay"}
    assert found["amount_owed"]["line"] is None and "missing amount_owed" in found["amount_owed"]["message"]


def test_an_unsound_policy_file_is_refused_with_its_line(client: TestClient, auth: TokenFactory) -> None:
    broken = policy_with(('start: "22:00"', "start: 22:00"), ("max_contacts: 6", "max_contact: 6"))
    answer = deploy(client, auth, bundle(broken))
    assert answer.status_code == 422
    details = {d["element_id"]: d for d in answer.json()["error"]["details"]}
    text = POLICY.decode().splitlines()
    start_line = next(i for i, line in enumerate(text, 1) if 'start: "22:00"' in line)
    assert details["contact.quiet_hours.start"]["line"] == start_line
    assert "quotes" in details["contact.quiet_hours.start"]["message"]
    assert details["contact.daily_caps.max_contact"]["file"] == "contact_policy.yaml"
    assert "unknown setting" in details["contact.daily_caps.max_contact"]["message"]


def test_without_a_policy_file_templates_are_linted_with_the_policy_in_force(
    client: TestClient, auth: TokenFactory
) -> None:
    assert deploy(client, auth, bundle()).status_code == 201
    files = [
        *diagram_files("t_collect.bpmn", "t_route.dmn", "t_call_form.json"),
        part("templates/letter_x.txt.j2", "尊敬的{{ borrower_name }}：否则我们将报警抓你。\n".encode()),
    ]
    answer = deploy(client, auth, files)
    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    rules = {d["element_id"] for d in details}
    assert "false_criminal_claim" in rules and "bank_identity" in rules


def test_a_stricter_bundle_policy_lints_its_own_templates(client: TestClient, auth: TokenFactory) -> None:
    stricter = policy_with(("老赖, ", "老赖, 欠钱, "))
    clean = deploy(client, auth, bundle())
    assert clean.status_code == 201
    sms = SMS_TEMPLATE.decode().replace("尽快还款", "尽快还款，欠钱要还").encode()
    answer = deploy(client, auth, bundle(stricter, extra={"templates/sms_reminder.txt.j2": sms}))
    assert answer.status_code == 422
    assert [d["element_id"] for d in answer.json()["error"]["details"]] == ["insult"]


def test_contact_task_properties_must_name_a_known_channel_and_target(
    client: TestClient, auth: TokenFactory
) -> None:
    diagram = (HERE / "c_calls.bpmn").read_text()
    wrong = diagram.replace('value="call" />', 'value="pigeon" />').replace(
        '<spiffworkflow:property name="stage" value="informal" />',
        '<spiffworkflow:property name="contactTarget" value="neighbour" />',
    )
    answer = deploy(client, auth, bundle(extra={"c_calls.bpmn": wrong.encode()}))
    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    assert {(d["file"], d["element_id"]) for d in details} == {("c_calls.bpmn", "call")}
    messages = " ".join(d["message"] for d in details)
    assert "contactChannel 'pigeon'" in messages and "contactTarget 'neighbour'" in messages
    assert all(d["line"] for d in details)


def test_the_repository_policy_and_templates_deploy(client: TestClient, auth: TokenFactory) -> None:
    files = [*diagram_files("t_collect.bpmn", "t_route.dmn", "t_call_form.json")]
    files.append(part("contact_policy.yaml", POLICY))
    for path in sorted((PROCESSES / "templates").glob("*.j2")):
        files.append(part(f"templates/{path.name}", path.read_bytes()))
    answer = deploy(client, auth, files)
    assert answer.status_code == 201, answer.text
    policy = client.get("/api/v1/compliance/policy", headers=auth("compliance")).json()
    assert policy["in_force"]["source"] == "deployed" and policy["in_force"]["file"] == "contact_policy.yaml"
    assert set(policy["in_force"]["template_rules"]["prohibited"]) >= {"threat", "third_party_disclosure"}
    assert deploy(client, auth, [part("contact_policy.yaml", POLICY)]).status_code == 422  # no process


def test_two_policy_files_in_one_bundle_are_refused(client: TestClient, auth: TokenFactory) -> None:
    answer = deploy(client, auth, bundle(extra={"other/contact_policy.yaml": POLICY}))
    assert answer.status_code == 422
    assert "one contact policy file" in answer.json()["error"]["details"][0]["message"]
