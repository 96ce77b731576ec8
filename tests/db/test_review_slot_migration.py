"""Migration 0017 frees the loan's slot held by cases that reached review before it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.conftest import TokenFactory, diagram_files, start_case
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.schema_upgrade import schema_scripts_dir

EPISODE = Path(__file__).resolve().parents[1] / "api" / "diagrams"


def _alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(schema_scripts_dir()))
    config.attributes["database_url"] = url
    return config


def test_cases_in_review_give_up_their_slot_and_collecting_cases_keep_it(
    database_url: str, services: Services, client: TestClient, auth: TokenFactory
) -> None:
    files = diagram_files("t_episode.bpmn", directory=EPISODE)
    assert client.post("/api/v1/definitions", headers=auth("compliance"), files=files).status_code == 201
    reviewing = start_case(client, auth, key="t_episode", loan_id="L-reviewing")
    collecting = start_case(client, auth, key="t_episode", loan_id="L-collecting")
    worker = auth("collector", groups=["collectors"], sub="alice")
    task = client.get(f"/api/v1/tasks?case_id={reviewing}", headers=worker).json()["items"][0]
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=worker).status_code == 200
    done = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=worker, json={"data": {}})
    assert done.status_code == 200 and done.json()["stage"] == "review"
    services.db.dispose()

    engine = create_engine(database_url)
    with engine.begin() as conn:  # both as the code before 0017 left them: each holds its loan's slot
        conn.execute(text("UPDATE cases SET singleton_key = 't_episode:' || loan_id"))
    engine.dispose()
    command.downgrade(_alembic(database_url), "0009")  # the revision 0017 follows
    command.upgrade(_alembic(database_url), "heads")

    engine = create_engine(database_url)
    with engine.connect() as conn:
        slots = dict(conn.execute(text("SELECT loan_id, singleton_key FROM cases")).all())
    engine.dispose()
    assert slots == {"L-reviewing": None, "L-collecting": "t_episode:L-collecting"}
    assert reviewing != collecting
