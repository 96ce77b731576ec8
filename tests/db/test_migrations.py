"""The Alembic migrations build exactly the schema the models describe (on both backends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from xinedai_workflow.db import models  # noqa: F401  (registers every table)
from xinedai_workflow.db.base import Base
from xinedai_workflow.db.schema_upgrade import upgrade_schema

# SQLite cannot reflect the DESC expression of this partial index; PostgreSQL compares it fully.
SQLITE_UNREFLECTABLE = {"ix_human_tasks_open_order"}


def _index_name(diff: Any) -> str | None:
    if isinstance(diff, tuple) and diff and diff[0] in ("add_index", "remove_index"):
        return str(diff[1].name)
    return None


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    if engine.dialect.name == "sqlite":
        diffs = [d for d in diffs if _index_name(d) not in SQLITE_UNREFLECTABLE]
    assert diffs == []


def test_migrate_creates_the_folder_of_a_sqlite_file(tmp_path: Path) -> None:
    """`serve` migrates before anything else opens the database: on a fresh checkout the default
    `sqlite:///./var/xinedai.db` has no `var/` yet."""
    database = tmp_path / "fresh-checkout" / "var" / "xinedai.db"
    upgrade_schema(f"sqlite:///{database}")
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            assert "cases" in inspect(connection).get_table_names()
    finally:
        engine.dispose()
