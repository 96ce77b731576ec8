"""The command line: `serve --no-worker` really turns the embedded worker off, and logging levels."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from xinedai_workflow import cli
from xinedai_workflow.settings import get_settings


def test_serve_no_worker_reaches_an_app_built_in_the_same_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With one uvicorn worker the app factory runs in this process, after `main` cached the
    settings; `--no-worker` must still reach it."""
    monkeypatch.setenv("XINEDAI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("XINEDAI_PROCESSES_DIR", str(tmp_path / "none"))
    monkeypatch.delenv("XINEDAI_WORKER_ENABLED", raising=False)
    get_settings.cache_clear()
    seen: dict[str, Any] = {}

    def fake_run(*_args: object, **kwargs: object) -> None:  # uvicorn.run: build the app as it would
        seen["worker_enabled"] = get_settings().worker_enabled
        seen["log_level"] = kwargs["log_level"]

    monkeypatch.setattr("uvicorn.run", fake_run)
    assert get_settings().worker_enabled is True  # the default the flag must override
    try:
        assert cli.main(["serve", "--no-worker", "--log-level", "warning"]) == 0
    finally:
        get_settings.cache_clear()
    assert seen == {"worker_enabled": False, "log_level": "warning"}


@pytest.mark.parametrize(
    ("level", "ours", "engine"),
    [("info", logging.INFO, logging.WARNING), ("debug", logging.DEBUG, logging.DEBUG)],
)
def test_engine_step_logging_is_quiet_unless_debugging(level: str, ours: int, engine: int) -> None:
    root = logging.getLogger()
    saved = root.level, root.handlers[:], {n: logging.getLogger(n).level for n in cli.CHATTY_LOGGERS}
    root.handlers.clear()  # basicConfig only configures an unconfigured root
    try:
        cli.configure_logging(level)
        assert root.level == ours
        assert logging.getLogger("spiff.task").getEffectiveLevel() == engine
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, value in saved[2].items():
            logging.getLogger(name).setLevel(value)
