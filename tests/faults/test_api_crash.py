"""kill -9 of the API (`serve --workers 2`) while eight clients send overdue events: every
acknowledged event has its case after the restart, replays give the same answer, and the events
that were in flight when it died can be sent again without ever making a second case."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import DIAGRAMS, TEST_SECRET, overdue_event
from tests.service_processes import ApiProcess, Process
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.db.models import Case
from xinedai_workflow.settings import Settings

pytestmark = pytest.mark.slow

CLIENTS = 8
SETTINGS = {"XINEDAI_PROCESSES_DIR": str(DIAGRAMS), "XINEDAI_DEFAULT_PROCESS_KEY": "t_collect"}


class Load:
    """Clients sending new overdue events until told to stop; what was acknowledged and what not."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = headers
        self.stop = threading.Event()
        self.acknowledged: dict[str, tuple[dict[str, Any], str]] = {}  # event_id → (event, case_id)
        self.in_flight: list[dict[str, Any]] = []  # sent, no answer (the connection died)
        self.unexpected: list[str] = []
        self.lock = threading.Lock()

    def client(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while not self.stop.is_set():
                event = overdue_event()
                try:
                    response = http.post("/api/v1/events/overdue", headers=self.headers, json=event)
                except httpx.HTTPError:
                    with self.lock:
                        self.in_flight.append(event)
                    return
                with self.lock:
                    if response.status_code != 201:  # checked by the test (a thread cannot fail it)
                        self.unexpected.append(f"{response.status_code} {response.text[:300]}")
                        return
                    self.acknowledged[event["event_id"]] = (event, response.json()["case_id"])

    def run_until_killed(self, api: ApiProcess, acknowledged_before_kill: int) -> None:
        threads = [threading.Thread(target=self.client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(self.acknowledged) < acknowledged_before_kill and time.monotonic() < deadline:
            time.sleep(0.01)
        api.kill9()
        self.stop.set()
        for thread in threads:
            thread.join(30)


def test_acknowledged_events_survive_kill_9_of_the_api_under_load(
    database_url: str, tmp_path: Path, processes: list[Process]
) -> None:
    settings = Settings(database_url=database_url, jwt_secret=TEST_SECRET)
    system = {"Authorization": f"Bearer {mint_token(settings, 'core', ['system'])}"}
    admin = {"Authorization": f"Bearer {mint_token(settings, 'root', ['admin'])}"}
    first = ApiProcess(database_url, tmp_path, workers=2, **SETTINGS).start()
    processes.append(first)

    load = Load(first.base_url, system)
    load.run_until_killed(first, acknowledged_before_kill=150)
    assert not load.unexpected
    assert len(load.acknowledged) >= 150

    second = ApiProcess(database_url, tmp_path, workers=2, **SETTINGS).start()
    processes.append(second)
    with httpx.Client(base_url=second.base_url, timeout=30) as http:
        for event_id, (event, case_id) in load.acknowledged.items():
            case = http.get(f"/api/v1/cases/{case_id}", headers=admin)
            assert case.status_code == 200, (event_id, case.text)
            assert case.json()["loan_id"] == event["loan_id"]
            assert case.json()["open_tasks"][0]["name"] == "call"
            replay = http.post("/api/v1/events/overdue", headers=system, json=event)
            assert replay.status_code == 200 and replay.json()["case_id"] == case_id
        for event in load.in_flight:  # the sender did not learn the outcome and sends again
            again = http.post("/api/v1/events/overdue", headers=system, json=event)
            assert again.status_code in (200, 201), again.text
        sample = list(load.acknowledged.values())[:: max(1, len(load.acknowledged) // 20)]
        for _event, case_id in sample:
            assert http.get(f"/api/v1/cases/{case_id}/history/verify", headers=admin).json()["valid"] is True

    loans = [event["loan_id"] for event, _ in load.acknowledged.values()]
    loans += [event["loan_id"] for event in load.in_flight]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(Case.loan_id, func.count()).where(Case.loan_id.in_(loans)).group_by(Case.loan_id)
                ).all()
            )
    finally:
        engine.dispose()
    assert set(counts) == set(loans) and set(counts.values()) == {1}
