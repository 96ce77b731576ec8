"""Real processes to crash: `xinedai-workflow worker` and `xinedai-workflow serve --workers N`,
on the same database as the test; and PostgreSQL-only databases for the tests that need its
locking (SKIP LOCKED leases, terminated backends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _truncate
from tests.service_processes import Process

FAULT_DIAGRAMS = Path(__file__).resolve().parent / "diagrams"


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty PostgreSQL database (skipped, or failed under CI=true, without a server)."""
    url: str = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every process a test starts is put here and stopped at the end, whatever happened."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()
