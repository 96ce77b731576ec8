"""Incidents: cases in `error` grouped by process version, element and message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import visible_cases
from ..db.models import BufferedMessage, Case
from ..db.unit_of_work import UnitOfWork

MAX_CASE_IDS = 20


def list_incidents(
    session: Session, principal: Principal, default_group: str | None, process_key: str | None = None
) -> list[dict[str, Any]]:
    """Every group of cases in error the caller may see, most cases first; each with the message,
    the oldest and newest failure, a sample of case ids and the events held on those cases."""
    query = (
        select(
            Case.process_key,
            Case.definition_version,
            Case.error_element_id,
            Case.error_message,
            func.count(),
            func.min(Case.updated_at),
            func.max(Case.updated_at),
        )
        .where(Case.status == "error", visible_cases(principal, default_group))
        .group_by(Case.process_key, Case.definition_version, Case.error_element_id, Case.error_message)
    )
    if process_key:
        query = query.where(Case.process_key == process_key)
    out: list[dict[str, Any]] = []
    for key, version, element, message, count, first, last in session.execute(query):
        same = (
            Case.status == "error",
            Case.process_key == key,
            Case.definition_version == version,
            Case.error_element_id.is_(None) if element is None else Case.error_element_id == element,
            Case.error_message.is_(None) if message is None else Case.error_message == message,
            visible_cases(principal, default_group),
        )
        ids = session.scalars(
            select(Case.id).where(*same).order_by(Case.updated_at, Case.id).limit(MAX_CASE_IDS)
        )
        held = session.scalar(
            select(func.count())
            .select_from(BufferedMessage)
            .join(Case, Case.id == BufferedMessage.case_id)
            .where(*same)
        )
        out.append(
            {
                "process_key": key,
                "version": version,
                "element_id": element,
                "message": message,
                "cases": count,
                "case_ids": [str(i) for i in ids],
                "held_events": held or 0,
                "first_at": first,
                "last_at": last,
            }
        )
    out.sort(key=lambda i: (-i["cases"], i["process_key"], i["version"], i["element_id"] or ""))
    return out


class IncidentService:
    """The operator's incident view: cases in error the caller may see."""

    def __init__(self, uow: UnitOfWork, default_group: str | None) -> None:
        self.uow = uow
        self.default_group = default_group

    def list(self, principal: Principal, process_key: str | None = None) -> list[dict[str, Any]]:
        return self.uow.read(
            lambda session: list_incidents(session, principal, self.default_group, process_key)
        )
