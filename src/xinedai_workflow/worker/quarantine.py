"""A case whose step fails for a reason the engine did not catch goes to `error`, on its own.

The worker fires timers for many cases; one case that cannot be stepped (a corrupt state, a value
the database refuses, a bug) must not stall the others. Its failure is written in a transaction of
its own — status `error`, the element and the message, a history entry — and the worker goes on.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Case, Timer
from ..db.session import Database
from ..history.service import NewEntry, append

log = logging.getLogger("xinedai_workflow.worker")


def describe(err: BaseException) -> str:
    """The message kept on the case (type and text, bounded)."""
    text = str(err) or type(err).__name__
    return f"the worker could not run this case's step: {type(err).__name__}: {text}"[:2000]


def quarantine(db: Database, case_id: uuid.UUID, err: BaseException, now: datetime) -> bool:
    """Put an active case into `error` with `err` as the reason; False if it was not active."""
    log.warning("case %s goes to error: %s", case_id, describe(err))
    with db.write() as session:
        return _quarantine(session, case_id, describe(err), now)


def _quarantine(session: Session, case_id: uuid.UUID, message: str, now: datetime) -> bool:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or case.status != "active":
        return False
    # the element: the timer that was due (the step the worker was running)
    element_id = session.scalars(
        select(Timer.element_id)
        .where(Timer.case_id == case_id, Timer.due_at <= now)
        .order_by(Timer.due_at)
        .limit(1)
    ).first()
    case.status = "error"
    case.error_message = message
    case.error_element_id = element_id
    case.updated_at = now
    data: dict[str, Any] = {"from": "active", "to": "error", "outcome": case.outcome}
    data["error"] = {"message": message, "element_id": element_id}
    append(session, case, [NewEntry("case_error", "system", element_id, data)], now)
    session.flush()
    return True
