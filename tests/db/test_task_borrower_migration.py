"""Migration 0009 gives the tasks that existed before it the borrower of their case."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.conftest import TokenFactory, start_case
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.schema_upgrade import schema_scripts_dir


def _alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(schema_scripts_dir()))
    config.attributes["database_url"] = url
    return config


def test_existing_tasks_get_their_cases_borrower(
    database_url: str, services: Services, client: TestClient, auth: TokenFactory, deployed: dict[str, Any]
) -> None:
    with_id = start_case(client, auth, loan_id="L-with", borrower={"id": "B-9", "name": "王"})
    without = start_case(client, auth, loan_id="L-without")
    services.db.dispose()
    command.downgrade(_alembic(database_url), "0007")  # the revision before 0009 (task borrower)
    command.upgrade(_alembic(database_url), "heads")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(text("SELECT CAST(case_id AS VARCHAR(64)), borrower_id FROM human_tasks")).all()
        )
    engine.dispose()
    by_case = {k.replace("-", ""): v for k, v in rows.items()}
    assert by_case[with_id.replace("-", "")] == "B-9"
    assert by_case[without.replace("-", "")] == "loan:L-without"
