"""`xinedai-workflow migrate-cases` and `batch status` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from xinedai_workflow import cli
from xinedai_workflow.settings import Settings, get_settings

from .conftest import Deploy, StartCase, case_view


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XINEDAI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("XINEDAI_PROCESSES_DIR", str(settings.processes_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_migrate_cases_dry_run_then_run_then_batch_status(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    cases = [start() for _ in range(3)]
    deploy("m_collect", "m_collect_v3.bpmn")  # `call` renamed to `phone_call`

    args = ["migrate-cases", "--key", "m_collect", "--from", "1", "--to", "2"]
    assert cli.main([*args, "--dry-run"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["total"] == 3 and all(s["error"]["code"] == "migration_refused" for s in plan["sample"])

    assert cli.main([*args, "--map", "nonsense"]) == 2
    capsys.readouterr()
    assert cli.main([*args, "--map", "call=phone_call"]) == 0
    final = json.loads(capsys.readouterr().out)
    assert (final["status"], final["total"], final["done"], final["failed"]) == ("completed", 3, 3, 0)
    for case_id in cases:
        view = case_view(client, auth, case_id)
        assert view["definition"]["version"] == 2 and view["open_tasks"][0]["name"] == "phone_call"

    assert cli.main(["batch", "status", final["batch_id"]]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    assert cli.main(["batch", "status", "not-an-id"]) == 2
    assert cli.main(["batch", "status", "018f0000-0000-7000-8000-000000000000"]) == 1
