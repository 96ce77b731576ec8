"""Real processes to crash: `xinedai-workflow worker` and `xinedai-workflow serve --workers N`,
on the same database as the test; and PostgreSQL-only databases for the tests that need its
locking (SKIP LOCKED leases, terminated backends)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_SECRET, _truncate
from tests.system.conftest import _free_port

FAULT_DIAGRAMS = Path(__file__).resolve().parent / "diagrams"
EXE = str(Path(sys.executable).parent / "xinedai-workflow")


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty PostgreSQL database (skipped, or failed under CI=true, without a server)."""
    url: str = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


def process_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "XINEDAI_DATABASE_URL": database_url,
        "XINEDAI_JWT_SECRET": TEST_SECRET,
        "XINEDAI_OUTBOX_SINK_DIR": str(workdir / "outbox"),
        **extra,
    }


class Process:
    """A child process in its own session (so kill -9 reaches all of it), logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def worker_process(database_url: str, workdir: Path, name: str, **settings: str) -> Process:
    env = process_env(database_url, workdir, **settings)
    return Process([EXE, "worker"], env, workdir / f"{name}.log")


class ApiProcess(Process):
    """`xinedai-workflow serve --workers N` (uvicorn) without the embedded worker."""

    def __init__(self, database_url: str, workdir: Path, workers: int, **settings: str) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = [EXE, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        args += ["--no-worker", "--log-level", "warning"]
        env = process_env(database_url, workdir, **settings)
        super().__init__(args, env, workdir / f"serve-{self.port}.log")

    def start(self, timeout: float = 90) -> ApiProcess:
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"serve did not become healthy:\n{self.output()}")


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every process a test starts is put here and stopped at the end, whatever happened."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()
