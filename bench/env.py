"""The benchmark's surroundings: a fresh database per backend, the diagrams under test, real
`xinedai-workflow serve` / `worker` processes, tokens and event bodies."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.bootstrap import Services, build_services
from xinedai_workflow.clock import Clock
from xinedai_workflow.db.schema_upgrade import upgrade_schema
from xinedai_workflow.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIAGRAMS = Path(__file__).resolve().parent / "diagrams"
TEST_DIAGRAMS = ROOT / "tests" / "diagrams"
# the bundle the lines run; --compare against an older ref needs a diagram both sides can run
# (e.g. tests/engine/stored_states/bundle, the diagram of eafda99), since diagrams use new helpers
PROCESSES = Path(os.environ.get("XINEDAI_BENCH_PROCESSES", ROOT / "processes"))
T_COLLECT = ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")
ONE_TASK = BENCH_DIAGRAMS / "b_one.bpmn"
SECRET = "bench-secret-" + "b" * 32
PG_ADMIN_URL = os.environ.get("XINEDAI_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = os.environ.get("XINEDAI_BENCH_PG_DB", "xinedai_bench")  # own name: parallel runs
EXE = str(Path(sys.executable).parent / "xinedai-workflow")


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used (None when it answers)."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return None


@dataclass
class Bundle:
    """The diagrams every line runs: the default overdue process and the fixture bundles."""

    default_key: str
    directory: Path  # deployed by `serve` at start (XINEDAI_PROCESSES_DIR)
    note: str

    @classmethod
    def choose(cls, workdir: Path, diagram: str = "auto") -> Bundle:
        """processes/xinedai_overdue.bpmn when it is there and deployable (or asked for), else
        the tests' t_collect bundle."""
        directory = workdir / "bundle"
        directory.mkdir(parents=True, exist_ok=True)
        for name in T_COLLECT:
            shutil.copy(TEST_DIAGRAMS / name, directory / name)
        fallback = cls("t_collect", directory, "tests/diagrams/t_collect.bpmn")
        if diagram == "t_collect":
            return fallback
        problem = _undeployable(PROCESSES) if (PROCESSES / "xinedai_overdue.bpmn").is_file() else "absent"
        if problem is None:
            real = workdir / "processes"
            shutil.copytree(PROCESSES, real, dirs_exist_ok=True)
            return cls("xinedai_overdue", real, "processes/xinedai_overdue.bpmn")
        if diagram == "xinedai_overdue":
            raise SystemExit(f"processes/xinedai_overdue.bpmn cannot be used: {problem}")
        fallback.note += f" (processes/xinedai_overdue.bpmn: {problem})"
        return fallback

    @classmethod
    def one_task(cls, workdir: Path) -> Bundle:
        """The one-task diagram (start → user task → end) as the default process: the second
        column of lines 1-4, where the engine does least and the service's own cost shows."""
        directory = workdir / "one_task"
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(ONE_TASK, directory / ONE_TASK.name)
        return cls("b_one", directory, "bench/diagrams/b_one.bpmn")


def _undeployable(directory: Path, timeout: float = 120) -> str | None:
    """Why the bundle in `directory` does not validate (checked in a child process, with a time limit)."""
    check = (
        "import sys; from xinedai_workflow.bootstrap import build_services; "
        "from xinedai_workflow.settings import Settings; "
        "from xinedai_workflow.definitions.service import read_bundle_dir; "
        "from pathlib import Path; "
        f"s = build_services(Settings(database_url='sqlite://', jwt_secret={SECRET!r})); "
        "s.definitions.validate(read_bundle_dir([Path(sys.argv[1])]))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", check, str(directory)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"validation did not finish in {timeout:.0f} s"
    if done.returncode != 0:
        return "invalid: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return None


@dataclass
class Backend:
    """One database under test, created empty and migrated."""

    name: str  # SQLite | PostgreSQL
    url: str
    workdir: Path
    bundle: Bundle
    extra_env: dict[str, str] = field(default_factory=dict)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.url,
            "jwt_secret": SECRET,
            "worker_enabled": False,
            "processes_dir": self.bundle.directory,
            "default_process_key": self.bundle.default_key,
            "outbox_sink_dir": self.workdir / "outbox",
            "database_pool_size": 20,
        }
        values.update(overrides)
        return Settings(**values)

    def services(self, clock: Clock | None = None) -> Services:
        return build_services(self.settings(), clock)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "XINEDAI_DATABASE_URL": self.url,
            "XINEDAI_JWT_SECRET": SECRET,
            "XINEDAI_PROCESSES_DIR": str(self.bundle.directory),
            "XINEDAI_DEFAULT_PROCESS_KEY": self.bundle.default_key,
            "XINEDAI_OUTBOX_SINK_DIR": str(self.workdir / "outbox"),
            **self.extra_env,
            **extra,
        }

    def deploy_fixtures(self) -> None:
        """Deploy the bundles every backend needs besides the default process: t_collect (the
        tasks line), b_timer (the timers line), b_long (the long-lived case) and b_one (the
        one-task column)."""
        from xinedai_workflow.definitions.service import read_bundle_dir

        services = self.services()
        try:
            for paths in (
                [TEST_DIAGRAMS / n for n in T_COLLECT],
                [BENCH_DIAGRAMS / "b_timer.bpmn"],
                [BENCH_DIAGRAMS / "b_long.bpmn"],
                [ONE_TASK],
            ):
                services.definitions.deploy(read_bundle_dir(paths), "bench")
        finally:
            services.db.dispose()

    def deploy_default(self) -> None:
        """Deploy the default process as `serve` does at start (unchanged content: no new version),
        for lines that run the services in process."""
        from xinedai_workflow.definitions.service import read_bundle_dir

        services = self.services()
        try:
            services.definitions.deploy(read_bundle_dir([self.bundle.directory]), "bench")
        finally:
            services.db.dispose()

    def token(self, sub: str, *roles: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
        token = mint_token(self.settings(), sub, list(roles), list(groups), ttl_seconds=4 * 3600)
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def backend(name: str, bundle: Bundle, workdir: Path) -> Iterator[Backend]:
    """A fresh, migrated database of kind `name` ("sqlite" or "postgres"), dropped afterwards."""
    if name == "sqlite":
        path = workdir / "bench.db"
        url = f"sqlite:///{path}"
        upgrade_schema(url)
        yield Backend("SQLite", url, workdir, bundle)
        return
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{PG_BENCH_DB}"
    upgrade_schema(url)
    try:
        yield Backend("PostgreSQL", url, workdir, bundle)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """A real `xinedai-workflow serve` (uvicorn) process without its embedded worker."""

    name = "serve"
    ready_path = "/health"

    def __init__(self, backend: Backend, workers: int) -> None:
        self.backend = backend
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        args = [EXE, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-worker"]
        return [*args, "--workers", str(self.workers), "--log-level", "warning"]

    def __enter__(self) -> Serve:
        log = open(self.backend.workdir / f"{self.name}-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.backend.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {log.name}")
            try:
                if httpx.get(self.base_url + self.ready_path, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"{self.name} did not become healthy; see {log.name}")

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class WorkerProcess:
    """A real `xinedai-workflow worker` process."""

    def __init__(self, backend: Backend, **env: str) -> None:
        self.backend = backend
        self.log_path = backend.workdir / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            [EXE, "worker"],
            cwd=ROOT,
            env=self.backend.env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def peak_rss_mb(self) -> float:
        """The process's peak resident set (VmHWM) so far, in MB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def overdue_event(loan_id: str | None = None) -> dict[str, Any]:
    """A valid overdue event for a new loan."""
    loan_id = loan_id or f"B-{uuid.uuid4().hex[:12]}"
    return {
        "event_id": str(uuid.uuid4()),
        "loan_id": loan_id,
        "product": "xinedai",
        "borrower": {
            "id": f"P-{loan_id}",
            "name": "王小明",
            "phone": "13812345678",
            "email": "wxm@example.com",
            "address": "北京市朝阳区建国路1号",
            "timezone": "Asia/Shanghai",
        },
        "principal": "50000.00",
        "overdue_principal": "2100.00",
        "overdue_interest": "262.50",
        "annual_rate": "0.063",
        "days_past_due": 35,
        "due_date": "2026-02-25",
        "occurred_at": "2026-03-02T09:00:00+08:00",
    }


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="xinedai-bench-"))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def utc(moment: datetime) -> str:
    return moment.isoformat()
