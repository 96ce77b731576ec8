"""Complaints: record, pause contact, recall from the agency named, open the supervisor's review.

`POST /events/complaint` (role system) runs in one transaction: the complaint row (collection
contact for the case pauses at once: the contact guard reads open complaints, so a message
already queued is dropped when the worker gets to it), the recall of the case from the agency the
complaint names, and the message `complaint_received` to the case, whose diagram opens the
supervisor's review task (`complaintReview` property). Completing that task resolves the case's
open complaints and so resumes contact; `POST /complaints/{id}/resolve` does the same for a case
whose diagram has no review task.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..agencies.repository import active_placement
from ..agencies.service import AgencyService
from ..auth.principal import Principal
from ..auth.visibility import can_see
from ..clock import Clock
from ..compliance.policy import PolicyStore
from ..compliance.subjects import borrower_of
from ..db.idempotency import Answer, remember, replay
from ..db.models import Case, Complaint, HumanTask
from ..db.retry import write_with_retry
from ..db.session import Database
from ..db.unit_of_work import Refusal
from ..definitions.registry import DefinitionRegistry
from ..errors import Conflict, Invalid, NotFound
from ..history.service import NewEntry, append
from ..ids import uuid7
from ..runtime.steps import CaseRuntime
from . import repository as repo
from .schemas import ComplaintEvent

# 银行业保险业消费投诉处理管理办法 (2020) art. 22: a decision within 15 days of accepting a complaint.
HANDLING_DAYS = 15
REVIEW_PROPERTY = "complaintReview"
MESSAGE = "complaint_received"
MESSAGE_TTL = timedelta(days=HANDLING_DAYS)
RESOLUTIONS = ("upheld", "partly_upheld", "rejected", "withdrawn")


def complaint_view(c: Complaint) -> dict[str, Any]:
    return {
        "complaint_id": str(c.id),
        "event_id": c.event_id,
        "case_id": str(c.case_id),
        "loan_id": c.loan_id,
        "agency_id": c.agency_id,
        "collector": c.collector,
        "category": c.category,
        "summary": c.summary,
        "received_at": c.received_at,
        "due_at": c.due_at,
        "status": c.status,
        "resolution": c.resolution,
        "resolution_note": c.resolution_note,
        "resolved_at": c.resolved_at,
        "resolved_by": c.resolved_by,
        "recalled_placement_id": str(c.recalled_placement_id) if c.recalled_placement_id else None,
    }


class ComplaintService:
    """Complaints from the bank's complaint system and their resolution."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        runtime: CaseRuntime,
        registry: DefinitionRegistry,
        policies: PolicyStore,
        agencies: AgencyService,
    ) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.registry = registry
        self.policies = policies
        self.agencies = agencies

    def receive(self, event: ComplaintEvent, actor: str) -> Answer:
        return write_with_retry(self.db, lambda session: self._receive(session, event, actor))

    def _receive(self, session: Session, event: ComplaintEvent, actor: str) -> Answer:
        body = event.model_dump(mode="json")
        previous = replay(session, "complaint", event.event_id, body, 200)
        if previous is not None:
            return previous
        case = session.scalar(
            select(Case)
            .where(Case.loan_id == event.loan_id, Case.status.in_(("active", "error")))
            .order_by(Case.created_at.desc())
            .limit(1)
        )
        if case is None:
            raise NotFound(f"loan {event.loan_id!r} has no active case", code="no_active_case")
        now = self.clock.now()
        policy = self.policies.in_force(session)
        complaint = Complaint(
            id=uuid7(),
            event_id=event.event_id,
            case_id=case.id,
            loan_id=case.loan_id,
            borrower_id=borrower_of(case, policy.contact).id,
            agency_id=event.agency_id,
            collector=event.collector,
            category=event.category,
            summary=event.summary,
            received_at=event.received_at,
            due_at=event.received_at + timedelta(days=HANDLING_DAYS),
            status="open",
        )
        placement = active_placement(session, case.id)
        if placement is not None and event.agency_id is not None and placement.agency_id == event.agency_id:
            self.agencies.recall_in(
                session, placement, case, "complaint", f"complaint {event.event_id}", actor
            )
            complaint.recalled_placement_id = placement.id
        session.add(complaint)
        data = {"complaint_id": str(complaint.id), "agency_id": event.agency_id, "category": event.category}
        append(session, case, [NewEntry("complaint_received", actor, None, data)], now)
        case.updated_at = now
        session.flush()
        payload = {**complaint_view(complaint), "received_at": event.received_at.isoformat()}
        payload["due_at"] = complaint.due_at.isoformat()
        self.runtime.deliver_or_buffer(
            session,
            case,
            MESSAGE,
            payload,
            {"loan_id": case.loan_id},
            actor,
            now,
            f"complaint:{event.event_id}",
            MESSAGE_TTL,
        )
        answer = Answer(
            201,
            {
                "complaint_id": str(complaint.id),
                "case_id": str(case.id),
                "status": "open",
                "due_at": complaint.due_at.isoformat(),
                "recalled_placement_id": complaint.recalled_placement_id
                and str(complaint.recalled_placement_id),
            },
        )
        remember(session, "complaint", event.event_id, body, answer, case.id, now)
        return answer

    # -- resolution ------------------------------------------------------------------------------
    def on_task_completion(
        self,
        session: Session,
        principal: Principal,
        case: Case,
        task: HumanTask,
        data: Mapping[str, Any],
        now: datetime,
    ) -> Refusal | None:
        """The tasks service's completion hook: the complaint review resolves the open complaints."""
        definition = self.registry.get(session, case.process_version_id)
        properties = definition.user_task_settings(task.element_id)
        if str(properties.get(REVIEW_PROPERTY, "")).strip().lower() != "true":
            return None
        resolution = str(data.get("resolution") or "")
        if resolution not in RESOLUTIONS:
            return None  # the form's validation reports it
        for complaint in repo.open_complaints(session, case.id):
            self._resolve(
                session, case, complaint, resolution, str(data.get("findings") or ""), principal.actor, now
            )
        return None

    def resolve(
        self, principal: Principal, complaint_id: uuid.UUID, resolution: str, note: str
    ) -> dict[str, Any]:
        with self.db.write() as session:
            complaint = session.get(Complaint, complaint_id)
            case = session.get(Case, complaint.case_id) if complaint is not None else None
            if complaint is None or case is None or not can_see(session, principal, case, None):
                raise NotFound(f"complaint {complaint_id} not found", code="complaint_not_found")
            if complaint.status != "open":
                raise Conflict("the complaint is already resolved", code="already_resolved")
            self._resolve(session, case, complaint, resolution, note, principal.actor, self.clock.now())
            return complaint_view(complaint)

    @staticmethod
    def _resolve(
        session: Session,
        case: Case,
        complaint: Complaint,
        resolution: str,
        note: str,
        actor: str,
        now: datetime,
    ) -> None:
        complaint.status = "resolved"
        complaint.resolution = resolution
        complaint.resolution_note = note[:4000] or None
        complaint.resolved_at = now
        complaint.resolved_by = actor
        data = {"complaint_id": str(complaint.id), "resolution": resolution}
        append(session, case, [NewEntry("complaint_resolved", actor, None, data)], now)
        case.updated_at = now
        try:
            session.flush()
        except IntegrityError as err:
            raise Invalid("the complaint could not be resolved") from err

    def list_complaints(
        self, principal: Principal, status: str | None, agency_id: str | None
    ) -> dict[str, Any]:
        with self.db.read() as session:
            query = select(Complaint)
            if status:
                query = query.where(Complaint.status == status)
            if agency_id:
                query = query.where(Complaint.agency_id == agency_id)
            rows = session.scalars(
                query.order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(500)
            )
            items = []
            for c in rows:
                case = session.get(Case, c.case_id)
                if case is not None and can_see(session, principal, case, None):
                    items.append(complaint_view(c))
            return {"items": items}
