"""Real service processes for the tests that crash or restart them: `xinedai-workflow serve`
(uvicorn) and `xinedai-workflow worker`, each in its own session so kill -9 reaches all of it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, TEST_SECRET

EXE = str(Path(sys.executable).parent / "xinedai-workflow")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "XINEDAI_DATABASE_URL": database_url,
        "XINEDAI_JWT_SECRET": TEST_SECRET,
        "XINEDAI_OUTBOX_SINK_DIR": str(workdir / "outbox"),
        **extra,
    }


class Process:
    """A child process in its own session, logging to a file; it can be started again after a stop."""

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

    def pause(self) -> None:
        """SIGSTOP the process group: it stops where it is, holding whatever it holds."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGCONT)

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

    def token(self, sub: str, role: str, *groups: str) -> str:
        """A token minted by `xinedai-workflow token` with this process's settings."""
        args = [EXE, "token", "--sub", sub, "--role", role]
        for group in groups:
            args += ["--group", group]
        return subprocess.run(args, env=self.env, check=True, capture_output=True, text=True).stdout.strip()


def worker_process(database_url: str, workdir: Path, name: str, **settings: str) -> Process:
    env = process_env(database_url, workdir, **settings)
    return Process([EXE, "worker"], env, workdir / f"{name}.log")


class ApiProcess(Process):
    """`xinedai-workflow serve --workers N` (uvicorn) on a fixed port, with or without the embedded
    worker; `start` returns once `/health` answers."""

    def __init__(
        self, database_url: str, workdir: Path, workers: int, embedded_worker: bool = False, **settings: str
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = [EXE, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        args += ["--log-level", "warning"] + ([] if embedded_worker else ["--no-worker"])
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
