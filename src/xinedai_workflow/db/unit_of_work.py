"""The one way a command writes: a unit of work that retries lost races, replays idempotent
answers, commits once, and only then runs the jobs the work left for after the commit.

    uow = UnitOfWork(db, clock)
    answer = uow.once(Key("payment", event.event_id, body, replay_status=202), work)
    view = uow.write(lambda session: ...)

A work function that must refuse *and* keep a record of the refusal (a blocked contact) returns a
`Refusal`: the record commits, then `write` raises the refusal's error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import ServiceError
from .idempotency import Answer, remember, replay
from .retry import write_with_retry
from .session import Database

T = TypeVar("T")
AFTER_COMMIT = "xinedai.after_commit"
log = logging.getLogger("xinedai_workflow.db")


@dataclass(frozen=True)
class Refusal:
    """The result of a unit of work that refused, with the refusal's record to be committed."""

    error: ServiceError


@dataclass(frozen=True)
class Key:
    """An idempotency key: the same `key` in `scope` with the same body answers as it first did."""

    scope: str
    key: str
    body: Any
    replay_status: int


def after_commit(session: Session, job: Callable[[], None]) -> None:
    """Run `job` once the session's unit of work has committed (never if it rolls back)."""
    session.info.setdefault(AFTER_COMMIT, []).append(job)


class UnitOfWork:
    """Runs commands and queries against the database, one transaction each."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def write(self, work: Callable[[Session], T | Refusal], attempts: int = 6) -> T:
        """Run `work` in one write transaction, again when it lost a race; commit; then run the
        jobs it left and raise a `Refusal`'s error."""
        jobs: list[Callable[[], None]] = []

        def attempt(session: Session) -> T | Refusal:
            jobs.clear()
            result = work(session)
            jobs.extend(session.info.pop(AFTER_COMMIT, []))
            return result

        result = write_with_retry(self.db, attempt, attempts=attempts)
        for job in jobs:
            try:
                job()
            except Exception:  # the commit stands; a failed follow-up job must not turn it into an error
                log.exception("a job after commit failed")
        if isinstance(result, Refusal):
            raise result.error
        return result

    def read(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a read-only transaction."""
        with self.db.read() as session:
            return work(session)

    def once(self, key: Key, work: Callable[[Session], Answer], attempts: int = 6) -> Answer:
        """An idempotent command: the stored answer for `key`, else run `work` and remember it."""
        return self.write(lambda session: self.answer_once(session, key, work), attempts=attempts)

    def answer_once(self, session: Session, key: Key, work: Callable[[Session], Answer]) -> Answer:
        """`once` inside the caller's transaction (e.g. in a savepoint of a batch)."""
        previous = replay(session, key.scope, key.key, key.body, key.replay_status)
        if previous is not None:
            return previous
        answer = work(session)
        self.remember(session, key, answer)
        return answer

    def remember(self, session: Session, key: Key, answer: Answer) -> None:
        """Store the answer for `key` in the caller's transaction."""
        case_id = answer.body.get("case_id")
        remember(
            session,
            key.scope,
            key.key,
            key.body,
            answer,
            uuid.UUID(case_id) if isinstance(case_id, str) else None,
            self.clock.now(),
        )
