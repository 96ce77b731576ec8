"""A real `xinedai-workflow serve` process (uvicorn, embedded worker) for tests that kill and restart
the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.service_processes import ApiProcess


@pytest.fixture
def service_process(database_url: str, tmp_path: Path) -> Iterator[ApiProcess]:
    service = ApiProcess(
        database_url,
        tmp_path,
        workers=1,
        embedded_worker=True,
        XINEDAI_PROCESSES_DIR=str(ROOT / "tests" / "diagrams"),
        XINEDAI_WORKER_POLL_SECONDS="0.2",
    )
    yield service
    service.stop()
