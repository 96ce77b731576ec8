"""Engines and units of work. One transaction per request or per engine step.

SQLite allows one writer at a time; a deferred transaction that later writes can fail with
"database is locked" instead of waiting, so write units of work start with ``BEGIN IMMEDIATE``
(on their own engine) and read units of work with a plain ``BEGIN``. Threads of one process also
queue for a process-wide lock before ``BEGIN IMMEDIATE``: SQLite's own busy handler makes waiting
writers poll with sleeps of up to 100 ms, which under concurrent requests costs more time than the
writes themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_engine(url: str, begin: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite database file (e.g. `var/` on a fresh checkout); other URLs
    are left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The service's database: `write()` and `read()` units of work."""

    def __init__(self, url: str, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            ensure_sqlite_dir(url)
            self.engine = _sqlite_engine(url, "BEGIN IMMEDIATE", echo=echo)
            self.read_engine = _sqlite_engine(url, "BEGIN", echo=echo)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, echo=echo
            )
            self.read_engine = self.engine
        # re-entrant: a nested write in the same thread waits on SQLite's lock, as it always did
        self._write_turn = threading.RLock() if self.dialect == "sqlite" else None
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that commits when the block ends and rolls back on any error."""
        with self._write_turn or nullcontext(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (never commits; closing ends the transaction, loaded rows stay usable)."""
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
