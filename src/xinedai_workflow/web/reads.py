"""Read-only lookups the workbench's pages show beside what the services answer: a task's contact
channel, a case's diagram file, its recorded contacts and its letters. Each is called only after
the service call for the same task or case succeeded (that call checked visibility)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from ..auth.visibility import works_case
from ..channels.documents import letter_pdf
from ..compliance.subjects import CONTACT_CHANNEL_PROPERTY, CONTACT_TARGET_PROPERTY
from ..db.models import Case, OutboxMessage, RecordedContact
from .parts import WebParts

LETTER_OPERATION = "send_registered_mail"


def contact_of_task(services: WebParts, case_id: uuid.UUID, element_id: str) -> tuple[str, str]:
    """The channel and target a contact task records (`call` / `borrower` for other tasks)."""
    with services.db.read() as session:
        case = session.get(Case, case_id)
        if case is None:
            return "call", "borrower"
        props = services.registry.get(session, case.process_version_id).user_task_settings(element_id)
    return str(props.get(CONTACT_CHANNEL_PROPERTY) or "call"), str(
        props.get(CONTACT_TARGET_PROPERTY) or "borrower"
    )


def diagram_xml(services: WebParts, case_id: uuid.UUID) -> str | None:
    """The BPMN file of the case's version that holds its process."""
    with services.db.read() as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        definition = services.registry.get(session, case.process_version_id)
    marker = re.compile(rf'<(?:\w+:)?process\b[^>]*\bid="{re.escape(case.process_key)}"')
    for name, content in sorted(definition.files.items()):
        if name.endswith(".bpmn"):
            text = content.decode("utf-8")
            if marker.search(text):
                return text
    return None


def contacts_of_case(services: WebParts, case_id: uuid.UUID) -> list[dict[str, Any]]:
    with services.db.read() as session:
        rows = session.scalars(
            select(RecordedContact)
            .where(RecordedContact.case_id == case_id)
            .order_by(RecordedContact.at.desc())
        )
        return [
            {
                "at": r.at,
                "channel": r.channel,
                "target": r.target,
                "connected": r.connected,
                "outcome": r.outcome,
                "actor": r.actor,
            }
            for r in rows
        ]


def letters_of_case(services: WebParts, case_id: uuid.UUID) -> list[dict[str, Any]]:
    with services.db.read() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id, OutboxMessage.operation == LETTER_OPERATION)
            .order_by(OutboxMessage.created_at)
        )
        return [
            {"id": str(r.id), "created_at": r.created_at, "status": r.status, "element_id": r.element_id}
            for r in rows
        ]


def letter_of_case(services: WebParts, case_id: uuid.UUID, message_id: uuid.UUID) -> bytes | None:
    with services.db.read() as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.case_id != case_id or row.operation != LETTER_OPERATION:
            return None
        return letter_pdf(row.payload)


def works(services: WebParts, principal: Any, case_id: uuid.UUID) -> bool:
    """Whether the reader works the case (and so may open documents with personal data)."""
    with services.db.read() as session:
        case = session.get(Case, case_id)
        return case is not None and works_case(session, principal, case)
