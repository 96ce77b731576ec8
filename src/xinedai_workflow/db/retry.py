"""Running a unit of work again when it lost a race (optimistic lock, unique key, deadlock)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, Unavailable
from .session import Database

T = TypeVar("T")
RACE_ERRORS = (StaleDataError, IntegrityError)


def _is_transient(err: OperationalError) -> bool:
    text = str(err.orig).lower() if err.orig is not None else str(err).lower()
    return any(s in text for s in ("deadlock", "could not serialize", "database is locked"))


def write_with_retry(db: Database, work: Callable[[Session], T], attempts: int = 6) -> T:
    """Run `work` in a write unit of work, retrying lost races; after the last attempt → Conflict."""
    for attempt in range(attempts):
        try:
            with db.write() as session:
                return work(session)
        except RACE_ERRORS as err:
            if attempt == attempts - 1:
                raise Conflict("the case changed concurrently; try again", code="concurrent_update") from err
        except OperationalError as err:
            if not _is_transient(err):
                raise Unavailable("the database is not available", code="database_unavailable") from err
            if attempt == attempts - 1:
                raise Conflict("the case changed concurrently; try again", code="concurrent_update") from err
        time.sleep(random.uniform(0.002, 0.02) * (attempt + 1))
    raise AssertionError("unreachable")
