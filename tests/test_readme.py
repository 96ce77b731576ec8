"""README's two commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _commands()
    assert len(commands) == 2
    run, test = commands
    assert "xinedai-workflow serve" in run
    assert test in (ROOT / ".ci" / "run").read_text()


def test_dockerfile_uses_the_readme_commands() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    run = _commands()[0]
    assert "python3 -m venv .venv && .venv/bin/pip install -e ." in run
    assert "python3 -m venv .venv && .venv/bin/pip install -e ." in dockerfile
    assert '".venv/bin/xinedai-workflow", "serve"' in dockerfile
