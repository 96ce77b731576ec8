"""The compliance studio in a real browser (Debian's chromium, a real uvicorn, the real API
behind the session bridge): a draft of the shipped version; a DMN wait changed in dmn-js and a
template sentence in the template editor; the proof with the diff, green tests and coverage; a
broken timer pinned on its element (live lint and proof); submit; a second compliance user
approves; deploy; a running case migrated by the roll-out batch. An auditor reads only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.conftest import Flow
from tests.web.conftest import SCREENSHOTS, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SMS = "templates/sms_reminder.txt.j2"


def status(page: Any, value: str) -> None:
    page.wait_for_selector(f"#draft-status:text-is('{value}')")


def open_draft(page: Any, draft_id: str) -> None:
    page.goto(f"/studio/drafts/{draft_id}")
    page.wait_for_selector("#studio[data-ready=true]")


def proof(page: Any) -> None:
    page.evaluate("delete document.getElementById('studio').dataset.proof")
    page.click("#btn-proof")
    page.wait_for_selector("#studio[data-proof]", state="attached")


def test_edit_prove_review_deploy_and_roll_out(flow: Flow, page: Any, browser: Any, base_url: str) -> None:
    (SCREENSHOTS / "studio").mkdir(parents=True, exist_ok=True)
    case_id, _loan = flow.overdue()
    flow.run_worker()

    sign_in(page, "connie")
    page.goto("/studio")
    page.wait_for_selector("#definitions tbody tr")
    page.fill("#new-title", "Hardship wait 2 days, friendlier SMS")
    shoot(page, "studio/drafts")
    page.click("#new-draft button[type=submit]")
    page.wait_for_url("**/studio/drafts/*")
    draft_id = page.url.rsplit("/", 1)[-1]
    page.wait_for_selector("#studio[data-ready=true]")
    status(page, "editing")

    # a DMN wait, in dmn-js
    page.goto(f"/studio/drafts/{draft_id}/dmn/segmentation.dmn")
    page.wait_for_selector("#studio[data-ready=true]")
    cell = page.locator('#dmn td[data-row-id="Rule_hardship"]', has_text='"P3D"')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type('"P2D"')
    page.click("#btn-save")
    page.wait_for_selector("#studio[data-saved=true]", state="attached")

    # a template sentence, with the lint's findings as one types
    page.goto(f"/studio/drafts/{draft_id}/templates/sms_reminder.txt.j2")
    page.wait_for_selector("#studio[data-ready=true][data-findings]")
    text = page.input_value("#source")
    assert "如已还款" in text
    page.fill("#source", text.replace("{{ amount", "{{ amount_typo", 1))
    page.wait_for_selector("#findings li.studio-problem")
    shoot(page, "studio/template")
    page.fill("#source", text.replace("如已还款", "如您已还款", 1))
    page.wait_for_selector("#findings li.ok")
    page.click("#btn-save")
    page.wait_for_selector("#studio[data-saved=true]", state="attached")

    # the form and policy editors
    page.goto(f"/studio/drafts/{draft_id}/forms/call_outcome.json")
    page.wait_for_selector("#studio[data-ready=true]")
    assert page.locator("#form-preview select[name=outcome]").count() == 1
    shoot(page, "studio/form")
    page.goto(f"/studio/drafts/{draft_id}/policy")
    page.wait_for_selector("#studio[data-ready=true][data-findings]")
    policy = page.input_value("#source")
    page.fill("#source", policy + "\nnot_a_known_key: [\n")
    page.wait_for_selector("#findings li.studio-problem")
    shoot(page, "studio/policy")

    # the proof: green, the DMN row and the two files in the diff, coverage on the diagram
    open_draft(page, draft_id)
    proof(page)
    assert page.locator("#studio").get_attribute("data-proof") == "ok", page.inner_text("#proof")
    assert " 0 failed" in page.inner_text("#proof-verdict")
    assert page.locator("#diff [data-dmn-row=Rule_hardship]").count() == 1
    assert page.locator(f"#diff [data-diff-file='{SMS}']").count() == 1
    assert page.locator(".djs-element.covered").count() > 0
    shoot(page, "studio/proof")
    page.click("#diff [data-dmn-row=Rule_hardship]")
    page.wait_for_selector("#studio[data-ready=true]")
    assert page.locator('#dmn td.row-changed[data-row-id="Rule_hardship"]').count() > 0
    shoot(page, "studio/dmn")

    # break a timer: the live lint and the proof pin it on the element; a click opens the property
    open_draft(page, draft_id)
    page.evaluate("window.studioSelect('retry_wait')")
    page.click("[data-group-id=group-timer] .bio-properties-panel-group-header")
    page.fill("input[name=timerEventDefinitionValue]", "P3D")
    page.wait_for_selector(".problem-pin[data-element=retry_wait]")
    proof(page)
    assert page.locator("#studio").get_attribute("data-proof") == "failed"
    assert "quote" in page.inner_text("#proof-problems").lower()
    page.locator(".problem-pin[data-element=retry_wait]").click()
    page.wait_for_selector(".bio-properties-panel-entry.has-error")
    shoot(page, "studio/broken-timer")
    page.fill("input[name=timerEventDefinitionValue]", "call_retry_wait")
    proof(page)
    assert page.locator("#studio").get_attribute("data-proof") == "ok", page.inner_text("#proof")

    page.click("#btn-submit")
    status(page, "in_review")
    assert page.locator("#btn-approve").is_hidden()  # not one's own

    # four eyes: a second compliance user approves
    reviewer = browser.new_context(base_url=base_url, viewport={"width": 1360, "height": 900})
    other = reviewer.new_page()
    sign_in(other, "cora")
    open_draft(other, draft_id)
    status(other, "in_review")
    other.fill("#review-note", "2 days is within the policy")
    other.click("#btn-approve")
    status(other, "approved")
    reviewer.close()

    open_draft(page, draft_id)
    status(page, "approved")
    page.click("#btn-deploy")
    status(page, "deployed")
    assert "deployed as v2" in page.inner_text("#draft-meta")

    # roll-out: the dry run counts the running case, then the batch moves it
    page.click("#btn-rollout-dry")
    page.wait_for_selector("#rollout-total")
    assert page.inner_text("#rollout-total").startswith("1 running case")
    page.click("#btn-rollout-run")
    page.wait_for_selector("#rollout-progress")
    flow.run_worker()
    page.wait_for_selector("#rollout-progress[data-status=completed]", timeout=15000)
    assert flow.case(case_id)["definition"] == {"key": "xinedai_overdue", "version": 2}
    page.wait_for_selector("#audit li")
    shoot(page, "studio/deployed")
    # Known: dmn-js's FEEL cell editor (CodeMirror's style-mod) tries a <style> tag, which the CSP
    # refuses; the cell still edits. Anything else on the console fails the test.
    problems = [p for p in page.problems if not p.startswith("Applying inline style violates")]
    assert problems == [], "\n".join(p[:200] for p in problems)


def test_an_auditor_reads_the_studio_but_edits_nothing(flow: Flow, page: Any) -> None:
    sign_in(page, "audrey")
    page.goto("/studio")
    page.wait_for_selector("#definitions tbody tr")
    assert page.locator("#new-draft").count() == 0
    assert "read-only" in page.inner_text("#studio-role")
    page.goto("/studio/definitions/xinedai_overdue/1")
    page.wait_for_selector("#studio[data-ready=true]")
    assert page.locator("#actions button:visible").count() == 0
    assert page.problems == [], page.problems


def test_a_collector_is_refused_the_studio(flow: Flow, page: Any) -> None:
    sign_in(page, "alice")
    response = page.goto("/studio")
    assert response.status == 403
    answer = page.request.get("/studio/api/v1/drafts")
    assert answer.status == 403
