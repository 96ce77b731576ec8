"""Compliance edits only diagram, DMN and template files; new cases follow the edit while cases that
started before finish on the version they started with."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import PROCESSES
from tests.scenarios.conftest import Flow, deploy_processes

OLD_SENTENCE = "请问哪一种方式更适合您？"
NEW_SENTENCE = "请问您希望选择哪一种还款安排？我们会为您详细说明。"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_new_cases_follow_the_edit_and_running_cases_keep_their_version(flow: Flow, tmp_path: Path) -> None:
    before, _ = flow.overdue()
    old = flow.case(before)
    assert old["definition"]["version"] == 1 and old["variables"]["segment"] == "first_time"
    assert OLD_SENTENCE in flow.detail(before, "call_borrower")["instructions"]

    edited = tmp_path / "processes"
    shutil.copytree(PROCESSES, edited)
    # a wait duration in the diagram: the call task is due in 4 hours instead of a day
    _edit(
        edited / "xinedai_overdue.bpmn",
        '<spiffworkflow:property name="dueIn" value="P1D"/>',
        '<spiffworkflow:property name="dueIn" value="PT4H"/>',
    )
    # a DMN threshold: first-time gentle treatment only up to 2,000 CNY
    _edit(edited / "segmentation.dmn", "<text>&lt;= 5000</text>", "<text>&lt;= 2000</text>")
    # a call-script sentence
    _edit(edited / "templates" / "call_script.md.j2", OLD_SENTENCE, NEW_SENTENCE)
    versions = deploy_processes(flow.services, edited)
    assert versions["xinedai_overdue"] == 2
    assert deploy_processes(flow.services, edited)["xinedai_overdue"] == 2  # unchanged: no new version

    after, _ = flow.overdue()
    new = flow.case(after)
    assert new["definition"]["version"] == 2
    assert new["variables"]["segment"] == "standard" and new["variables"]["call_retry_wait"] == "P2D"
    task = flow.open_task(after, "call_borrower")
    created, due = datetime.fromisoformat(task["created_at"]), datetime.fromisoformat(task["due_at"])
    assert due - created == timedelta(hours=4)
    instructions = flow.detail(after, "call_borrower")["instructions"]
    assert NEW_SENTENCE in instructions and OLD_SENTENCE not in instructions

    # the case that started before finishes on version 1: old DMN outputs, old template, old due time
    flow.run_worker()
    flow.work(before, "call_borrower", {"outcome": "no_answer"})
    flow.advance_to_local(4, 9)  # version 1's retry wait for first-time borrowers is three days
    again = flow.case(before)
    assert again["definition"]["version"] == 1
    second_call = flow.open_task(before, "call_borrower")
    assert datetime.fromisoformat(second_call["due_at"]) - datetime.fromisoformat(
        second_call["created_at"]
    ) == timedelta(days=1)
    instructions = flow.detail(before, "call_borrower")["instructions"]
    assert OLD_SENTENCE in instructions and NEW_SENTENCE not in instructions
    flow.pay(again["loan_id"], again["variables"]["amount_owed"])
    done = flow.case(before)
    assert done["outcome"] == "cured" and done["definition"]["version"] == 1
