"""Retention: contact records, blocked attempts and call-recording metadata are kept for the
periods of the policy in force (`retention:` in the policy file; at least 730 days), then purged.

The worker runs the purge periodically. It never touches a case that is still open (active or
in error), purges one case per transaction and writes a history entry on each case it purged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..clock import Clock
from ..db.models import BlockedContact, Case, RecordedContact
from ..db.unit_of_work import UnitOfWork
from ..errors import ServiceError
from ..history.service import NewEntry, append
from .policy import PolicyInForce, PolicyStore

log = logging.getLogger("xinedai_workflow.compliance.retention")

OPEN_STATUSES = ("active", "error")
RETENTION_ACTOR = "system:retention"


@dataclass
class PurgeResult:
    """What one purge run removed."""

    cases: int = 0
    contact_records: int = 0
    blocked_attempts: int = 0
    call_recordings: int = 0


@dataclass(frozen=True)
class _Cutoffs:
    records: datetime
    recordings: datetime


class RetentionJob:
    """Purges expired contact data of closed cases."""

    def __init__(
        self, uow: UnitOfWork, policies: PolicyStore, clock: Clock, max_cases_per_run: int = 1000
    ) -> None:
        self.uow = uow
        self.policies = policies
        self.clock = clock
        self.max_cases = max_cases_per_run
        self.batch = 100

    def run(self) -> PurgeResult:
        """One purge pass over at most `max_cases_per_run` cases."""
        now = self.clock.now()
        with self.uow.db.read() as session:
            policy = self.policies.in_force(session)
        retention = policy.retention
        cutoffs = _Cutoffs(
            records=now - timedelta(days=retention.contact_records_days),
            recordings=now - timedelta(days=retention.call_recordings_days),
        )
        result = PurgeResult()
        skipped: set[uuid.UUID] = set()
        while result.cases + len(skipped) < self.max_cases:
            with self.uow.db.read() as session:
                candidates = [c for c in self._candidates(session, cutoffs, skipped) if c not in skipped]
            if not candidates:
                break
            for case_id in candidates:
                try:
                    done = self._purge_with_retry(case_id, cutoffs, policy, now)
                except ServiceError as err:
                    log.warning("retention purge of case %s skipped this round: %s", case_id, err.message)
                    done = None
                if done is None:
                    skipped.add(case_id)
                    continue
                result.cases += 1
                result.contact_records += done.contact_records
                result.blocked_attempts += done.blocked_attempts
                result.call_recordings += done.call_recordings
        if result.cases:
            log.info("retention purge: %s", result)
        return result

    def _purge_with_retry(
        self, case_id: uuid.UUID, cutoffs: _Cutoffs, policy: PolicyInForce, now: datetime
    ) -> PurgeResult | None:
        def work(session: Session) -> PurgeResult | None:
            return self._purge_case(session, case_id, cutoffs, policy, now)

        return self.uow.write(work)

    def _candidates(self, session: Session, cutoffs: _Cutoffs, skipped: set[uuid.UUID]) -> list[uuid.UUID]:
        closed = Case.status.not_in(OPEN_STATUSES)
        expired_records = select(RecordedContact.case_id).where(
            or_(
                RecordedContact.at < cutoffs.records,
                (RecordedContact.at < cutoffs.recordings) & RecordedContact.recording_ref.is_not(None),
            )
        )
        expired_blocks = select(BlockedContact.case_id).where(BlockedContact.at < cutoffs.records)
        query = (
            select(Case.id)
            .where(closed, or_(Case.id.in_(expired_records), Case.id.in_(expired_blocks)))
            .order_by(Case.id)
            .limit(self.batch + len(skipped))
        )
        return list(session.scalars(query))

    def _purge_case(
        self, session: Session, case_id: uuid.UUID, cutoffs: _Cutoffs, policy: PolicyInForce, now: datetime
    ) -> PurgeResult | None:
        case = session.get(Case, case_id)
        if case is None or case.status in OPEN_STATUSES:
            return None
        records = session.execute(
            delete(RecordedContact)
            .where(RecordedContact.case_id == case_id, RecordedContact.at < cutoffs.records)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        blocks = session.execute(
            delete(BlockedContact)
            .where(BlockedContact.case_id == case_id, BlockedContact.at < cutoffs.records)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        recordings = session.execute(
            update(RecordedContact)
            .where(
                RecordedContact.case_id == case_id,
                RecordedContact.at < cutoffs.recordings,
                RecordedContact.recording_ref.is_not(None),
            )
            .values(recording_ref=None)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not (records or blocks or recordings):
            return None
        data = {
            "contact_records": records,
            "blocked_attempts": blocks,
            "call_recordings": recordings,
            "records_before": cutoffs.records.isoformat(),
            "recordings_before": cutoffs.recordings.isoformat(),
            "contact_records_days": policy.retention.contact_records_days,
            "call_recordings_days": policy.retention.call_recordings_days,
            **policy.stamp(),
        }
        append(session, case, [NewEntry("contact_records_purged", RETENTION_ACTOR, None, data)], now)
        session.flush()
        return PurgeResult(1, records, blocks, recordings)
