"""A real `xinedai-workflow serve` process (uvicorn) for tests that kill and restart the service."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """Starts, hard-kills and restarts the real service on one database."""

    def __init__(self, database_url: str, workdir: Path, processes_dir: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "XINEDAI_DATABASE_URL": database_url,
            "XINEDAI_JWT_SECRET": TEST_SECRET,
            "XINEDAI_PROCESSES_DIR": str(processes_dir),
            "XINEDAI_OUTBOX_SINK_DIR": str(workdir / "outbox"),
            "XINEDAI_WORKER_POLL_SECONDS": "0.2",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.exe = str(Path(sys.executable).parent / "xinedai-workflow")

    def start(self, timeout: float = 60) -> None:
        log = open(self.workdir / f"serve-{time.time_ns()}.log", "wb")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(
            [self.exe, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}; see {log.name}")
            try:
                if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("serve did not become healthy")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, sub: str, role: str, *groups: str) -> str:
        args = [self.exe, "token", "--sub", sub, "--role", role]
        for group in groups:
            args += ["--group", group]
        return subprocess.run(args, env=self.env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def service_process(database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(database_url, tmp_path, ROOT / "tests" / "diagrams")
    yield service
    service.stop()
