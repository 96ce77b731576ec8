"""Two real `xinedai-workflow worker` processes drain an outbox that asks for 16 SMS to each of
four borrowers at once (sixteen loans each): together they send no more than the daily cap.

Messages of one case are serialised by the case row anyway; the race is between cases of one
borrower, which only the borrower lock prevents (without it, this test fails in most runs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.compliance.conftest import StartCase, contacts, history
from tests.conftest import ROOT, TEST_SECRET

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import HistoryEntry, OutboxMessage

pytestmark = pytest.mark.slow

CAP = 6  # max_contacts in processes/contact_policy.yaml
BORROWERS = [f"B-race-{i}" for i in range(4)]  # four races for the last contact of the day
CASES = 16  # loans per borrower, created one borrower after the other: consecutive outbox rows are
PER_CASE = 1  # different cases of one borrower, so the two workers race on the same borrower


def midday_zone() -> str:
    """A fixed-offset zone in which it is about noon now: the workers run on the real clock, and
    the test must not meet quiet hours or a local midnight."""
    offset = 12 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 12 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-8 is UTC+8


class WorkerProcess:
    def __init__(self, database_url: str, workdir: Path, index: int) -> None:
        self.log = workdir / f"worker-{index}.log"
        env = {
            **os.environ,
            "XINEDAI_DATABASE_URL": database_url,
            "XINEDAI_JWT_SECRET": TEST_SECRET,
            "XINEDAI_OUTBOX_SINK_DIR": str(workdir / "outbox"),
            "XINEDAI_WORKER_POLL_SECONDS": "0.05",
            "XINEDAI_WORKER_BATCH_SIZE": "1",  # one message per round: the workers interleave
        }
        exe = str(Path(sys.executable).parent / "xinedai-workflow")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [exe, "worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def started(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker exited with {self.proc.returncode}: {self.log.read_text()}")
        return "started" in self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def pending_due(services: Services) -> int:
    now = datetime.now(UTC)
    with services.db.read() as session:
        query = select(func.count()).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now
        )
        return int(session.scalar(query.select_from(OutboxMessage)) or 0)


def test_two_worker_processes_cannot_together_exceed_the_daily_cap(
    database_url: str,
    tmp_path: Path,
    services: Services,
    clock: ManualClock,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    workers = [WorkerProcess(database_url, tmp_path, i) for i in (1, 2)]
    try:
        deadline = time.monotonic() + 60
        while not all(w.started() for w in workers):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        zone = midday_zone()
        clock.set(datetime.now(UTC))  # the cases queue their SMS at the workers' (real) time
        cases = {
            borrower: [
                start("c_burst", borrower_id=borrower, timezone=zone, burst=PER_CASE) for _ in range(CASES)
            ]
            for borrower in BORROWERS
        }
        deadline = time.monotonic() + 90
        while pending_due(services):
            assert time.monotonic() < deadline, "the workers did not drain the outbox"
            time.sleep(0.1)
    finally:
        for w in workers:
            w.stop()

    queued = CASES * PER_CASE
    for borrower in BORROWERS:
        sent = [c for c in contacts(services, borrower) if c.connected]
        assert len(sent) == CAP, borrower
        entries = [e for case_id in cases[borrower] for e in history(services, case_id)]
        actions = Counter(e.action for e in entries if e.action.startswith("contact_"))
        assert actions == {"contact_sent": CAP, "contact_deferred": queued - CAP}, borrower
        deferred = [e for e in entries if e.action == "contact_deferred"]
        assert {e.data["decision"]["rule"] for e in deferred} == {"daily_contact_cap"}
    with services.db.read() as session:
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
        workers_seen = {
            e.data["worker"]
            for e in session.scalars(select(HistoryEntry).where(HistoryEntry.action.like("contact_%")))
        }
    total = len(BORROWERS) * queued
    assert statuses == {"sent": CAP * len(BORROWERS), "pending": total - CAP * len(BORROWERS)}
    assert len(list((tmp_path / "outbox" / "sms").glob("*.json"))) == CAP * len(BORROWERS)
    assert len(workers_seen) == 2  # both processes took part in the race
