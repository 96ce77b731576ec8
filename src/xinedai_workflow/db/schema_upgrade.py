"""Running the Alembic migrations (`xinedai-workflow migrate`, and `serve` at start)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from .session import ensure_sqlite_dir


def schema_scripts_dir() -> Path:
    """`XINEDAI_MIGRATIONS_DIR`, else `migrations/` of the source checkout, else of the working directory."""
    candidates = [
        os.environ.get("XINEDAI_MIGRATIONS_DIR"),
        str(Path(__file__).resolve().parents[3] / "migrations"),
        str(Path.cwd() / "migrations"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "env.py").is_file():
            return Path(candidate)
    raise FileNotFoundError("cannot find the migrations directory; set XINEDAI_MIGRATIONS_DIR")


def upgrade_schema(database_url: str) -> None:
    """Bring the database schema to the newest revision (creating a SQLite file's folder)."""
    ensure_sqlite_dir(database_url)
    config = Config()
    config.set_main_option("script_location", str(schema_scripts_dir()))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "heads")
