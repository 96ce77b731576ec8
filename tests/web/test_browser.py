"""The workbench in a real browser (Debian's chromium through Playwright, a real uvicorn):
a collector signs in, takes the next task, sees the script and the contact check, submits an
invalid then a valid form and the case moves; a supervisor's dashboard charts the seeded
figures; a script in a borrower's name is shown as text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.scenarios.conftest import Flow
from tests.scenarios.test_informal import _loan_not_sampled
from tests.web.conftest import shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

XSS_NAME = '<img src=x onerror="window.__pwned=1">王<script>window.__pwned=2</script>'


def test_a_collector_works_the_next_task(flow: Flow, page: Any) -> None:
    flow.overdue()
    flow.overdue()
    flow.run_worker()
    sign_in(page, "alice")
    assert page.url.endswith("/desk")
    assert page.locator("tr.task-row").count() == 2
    assert page.locator("#count-all").inner_text() == "2"
    page.keyboard.press("j")
    assert page.locator("tr.task-row.selected").count() == 1
    shoot(page, "desk")

    page.keyboard.press("n")  # the next task: claimed and opened
    page.wait_for_url("**/task/**")
    page.wait_for_selector("#verdict")
    case_id = page.locator("a[href^='/case/']").first.get_attribute("href").split("/")[-1]
    script = page.locator("#instructions").inner_text()
    owed = flow.case(case_id)["variables"]["ledger"]["balance"]["owed"]
    assert "王小明" in script and f"{float(owed):,.2f}" in script, script
    assert "##" not in script and page.locator("#instructions h2").count() >= 3  # Markdown rendered
    assert page.locator("#verdict").get_attribute("data-allowed") == "true"
    assert "0 / 3" in page.locator("#today-calls").inner_text()
    assert page.locator("#borrower-name").inner_text() == "王小明"  # she works the case: unmasked
    shoot(page, "task")

    # invalid: nothing chosen → the server's own message, the task stays open
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#form-errors")
    assert "'outcome' is required" in page.locator("#form-errors").inner_text()
    page.select_option("select[name=outcome]", "promise_to_pay")
    promised = (flow.clock.now() + timedelta(days=3)).date().isoformat()
    page.fill("input[name=promised_amount]", "1000.5x")
    page.fill("input[name=promised_date]", promised)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#form-errors")
    assert "promised_amount" in page.locator("#form-errors").inner_text()
    assert flow.case(case_id)["open_tasks"][0]["name"] == "call_borrower"

    page.fill("input[name=promised_amount]", "1000.00")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/case/{case_id}?notice=completed")
    page.wait_for_selector("#diagram[data-ready=true]")
    case = flow.case(case_id)
    assert case["open_tasks"] == [] and "Paid or due?" in {w["name"] for w in case["waiting"]}

    assert page.locator(".djs-element.path-taken").count() > 0
    assert page.locator(".wait-overlay").count() > 0
    shoot(page, "case")
    assert page.problems == []


def test_a_borrower_name_with_markup_is_shown_as_text(flow: Flow, page: Any) -> None:
    flow.overdue(
        borrower={"id": "B-x", "name": XSS_NAME, "phone": "13812345678", "timezone": "Asia/Shanghai"}
    )
    flow.run_worker()
    sign_in(page, "alice")
    page.keyboard.press("n")
    page.wait_for_url("**/task/**")
    page.wait_for_selector("#verdict")
    assert page.locator("#borrower-name").inner_text() == XSS_NAME
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#borrower-name img, #borrower-name script").count() == 0
    assert XSS_NAME in page.locator("#instructions").inner_text()


def test_a_supervisor_sees_the_seeded_figures(flow: Flow, page: Any) -> None:
    # five cases: one cured, one promise, one unanswered call, one refusal, one untouched
    cured, loan = flow.overdue(loan_id=_loan_not_sampled("CURED"))
    promised, _ = flow.overdue()
    unanswered, _ = flow.overdue()
    refused, _ = flow.overdue()
    flow.overdue()
    flow.run_worker()
    promise_day = (flow.clock.now() + timedelta(days=3)).date().isoformat()
    flow.work(
        promised,
        "call_borrower",
        {"outcome": "promise_to_pay", "promised_amount": "800.00", "promised_date": promise_day},
    )
    flow.work(unanswered, "call_borrower", {"outcome": "no_answer"})
    flow.work(refused, "call_borrower", {"outcome": "refused"})
    flow.advance(timedelta(hours=2))
    flow.pay(loan, flow.case(cured)["variables"]["ledger"]["balance"]["owed"])  # pays everything: cured
    assert flow.case(cured)["status"] == "completed"
    flow.advance(timedelta(minutes=5))
    sign_in(page, "sam")
    page.goto("/dashboard")
    page.wait_for_selector("[data-chart=funnel][data-ready=true]")
    assert page.locator("#headline-cases_opened .value").inner_text() == "5"
    assert page.locator("#headline-cure_rate .value").inner_text() == "0.2000"
    funnel = page.locator("table[data-table=funnel] tbody").text_content() or ""
    assert "informal3" in funnel and "formal1" in funnel  # the refusal went on to the formal stage
    rates = page.locator("table[data-table=rates] tbody").text_content() or ""
    assert "right_party_contact_rate" in rates
    people = page.locator("table[data-table=work_person] tbody").text_content() or ""
    assert "collector-1" in people  # the three calls were worked by collector-1
    assert page.locator("[data-chart] svg").count() >= 8  # every chart drew
    page.locator("#card-funnel summary").click()
    assert page.locator("table[data-table=funnel]").is_visible()
    shoot(page, "dashboard")
    assert page.problems == []
