"""Schemathesis against /openapi.json with valid tokens, on PostgreSQL: generated requests (valid
and invalid) to every operation get no 5xx, and every answer matches the documented status codes,
content types and response schemas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import DIAGRAMS, TEST_SECRET, overdue_event
from xinedai_workflow.app import create_app
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.bootstrap import Services, build_services
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzzed_app(pg_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, Services]]:
    """The app on PostgreSQL with the test bundle deployed and a few cases, tasks and messages."""
    services = build_services(
        Settings(
            database_url=pg_url,
            jwt_secret=TEST_SECRET,
            worker_enabled=False,
            default_process_key="t_collect",
            outbox_sink_dir=tmp_path / "outbox",
            bureau_export_dir=tmp_path / "bureau",
        )
    )
    app = create_app(services=services, run_worker=False)
    bundle = read_bundle_dir([DIAGRAMS / n for n in ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")])
    services.definitions.deploy(bundle, "fuzz")
    with TestClient(app) as client:
        system = {"Authorization": f"Bearer {mint_token(services.settings, 'core', ['system'])}"}
        for index in range(3):
            client.post("/api/v1/events/overdue", headers=system, json=overdue_event(f"FUZZ-{index}"))
    yield app, services
    services.db.dispose()


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_5xx_and_no_schema_violation(fuzzed_app: tuple[FastAPI, Services]) -> None:
    """Every operation, with valid and with invalid data. (Schemathesis' own pytest integration
    does not work with pytest 9 yet, so the run is driven through Hypothesis directly.)"""
    app, services = fuzzed_app
    token = mint_token(services.settings, "fuzzer", ["admin"], ["collectors", "supervisors"])
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = _operations(app)
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                continue  # e.g. no invalid input exists for an operation without parameters
            except Exception as err:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} ({mode.value}): {type(err).__name__}: {str(err)[:1500]}")
    assert not failures, "\n\n".join(failures)
