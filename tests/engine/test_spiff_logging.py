"""SpiffWorkflow's per-state-change log extras are built only when the line is logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from SpiffWorkflow.task import Task

from tests.engine.shipped import NOW, shipped
from xinedai_workflow.engine import EngineInstance, configure_spiff_logging


def _start_counting(monkeypatch: pytest.MonkeyPatch) -> int:
    calls = []
    original = Task.collect_log_extras

    def counting(self: Task, dct: Any = None) -> dict[str, Any]:
        calls.append(1)
        return original(self, dct)

    monkeypatch.setattr(Task, "collect_log_extras", counting)
    definition, ctx = shipped()
    EngineInstance.start(definition, {"loan_id": "L-LOG"}, NOW, ctx)
    return len(calls)


def test_no_extras_are_built_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_spiff_logging(debug=False)
    assert logging.getLogger("spiff.task").level == logging.WARNING
    assert _start_counting(monkeypatch) == 0


def test_debug_logging_builds_them_with_the_task_data(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    configure_spiff_logging(debug=True)
    try:
        with caplog.at_level(logging.DEBUG, logger="spiff.task"):
            assert _start_counting(monkeypatch) > 0
        changes = [r for r in caplog.records if r.name == "spiff.task" and "State changed" in r.getMessage()]
        assert changes and all(hasattr(r, "task_spec") and hasattr(r, "data") for r in changes)
    finally:
        configure_spiff_logging(debug=False)
