"""The rows that mirror a case's engine state (open tasks, timers, message subscriptions), read
before a step so the save can diff them: for one case, or for a batch of cases in one query per
table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import BufferedMessage, HumanTask, MessageSubscription, Timer


@dataclass
class DerivedRows:
    """A case's rows that mirror its engine state, read once per step (or once per batch of cases)."""

    tasks: dict[uuid.UUID, HumanTask] = field(default_factory=dict)  # open tasks
    timers: dict[uuid.UUID, Timer] = field(default_factory=dict)
    subscriptions: dict[tuple[uuid.UUID, str], MessageSubscription] = field(default_factory=dict)
    # None: unknown (looked up when the case waits for a message); False/True: known
    has_buffered: bool | None = None


def load_derived(
    session: Session, case_ids: Sequence[uuid.UUID], with_buffered: bool = False
) -> dict[uuid.UUID, DerivedRows]:
    """The derived rows of many cases in one query per table (instead of one per case and table)."""
    derived = {case_id: DerivedRows() for case_id in case_ids}
    if not derived:
        return derived
    ids = list(derived)
    # by case only: with `status = 'open'` in the query SQLite may pick the inbox index (status
    # first) and read every open task of the service; a case's ended tasks are few
    for task in session.scalars(select(HumanTask).where(HumanTask.case_id.in_(ids))):
        if task.status == "open":
            derived[task.case_id].tasks[task.id] = task
    for timer in session.scalars(select(Timer).where(Timer.case_id.in_(ids))):
        derived[timer.case_id].timers[timer.task_id] = timer
    for sub in session.scalars(select(MessageSubscription).where(MessageSubscription.case_id.in_(ids))):
        derived[sub.case_id].subscriptions[(sub.task_id, sub.name)] = sub
    if with_buffered:
        buffered = set(
            session.scalars(
                select(BufferedMessage.case_id).where(BufferedMessage.case_id.in_(ids)).distinct()
            )
        )
        for case_id, rows in derived.items():
            rows.has_buffered = case_id in buffered
    return derived
