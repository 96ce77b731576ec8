"""Property test through the real service: random schedules of outbound messages (the outbox, as
service tasks queue them) and recorded calls (contact tasks completed by a collector) for
borrowers across time zones, driven by a manual clock through the real worker. Whatever the
schedule asks for, no borrower is contacted in quiet hours or beyond the daily caps, and every
blocked attempt is visible in the case history.

The checks re-derive the limits from the stored contacts with their own arithmetic. The domain
tests run hundreds of examples on the pure policy; this one keeps the count small (database).
"""

from __future__ import annotations

import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.compliance.conftest import StartCase, blocks, contacts, history

from xinedai_workflow.auth.principal import Principal
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.compliance.guard import ContactNotAllowed
from xinedai_workflow.db.models import HumanTask, OutboxMessage
from xinedai_workflow.ids import uuid7
from xinedai_workflow.worker.runner import Worker

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]
# Mondays around DST changes (US and UK in March, Lord Howe in April) and a quiet one
ANCHORS = [
    datetime(2026, 3, 2, tzinfo=UTC),
    datetime(2026, 3, 7, 12, tzinfo=UTC),
    datetime(2026, 3, 28, tzinfo=UTC),
    datetime(2026, 4, 4, 6, tzinfo=UTC),
]
OUTBOX_CHANNELS = {"sms": "send_sms", "email": "send_email", "registered_mail": "send_registered_mail"}
CALL_OUTCOMES = ["no_answer", "wrong_party", "promise_to_pay", "hardship", "dispute", "refused"]
HORIZON = timedelta(days=3)
COLLECTOR = Principal(sub="alice", roles=frozenset({"collector"}), groups=frozenset({"collectors"}))


@dataclass(frozen=True)
class Planned:
    after: timedelta
    borrower: int
    what: str  # an outbox channel, or "call"
    outcome: str


@st.composite
def schedules(draw: st.DrawFn) -> tuple[datetime, list[str], list[Planned]]:
    start = draw(st.sampled_from(ANCHORS))
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3))
    planned = draw(
        st.lists(
            st.builds(
                Planned,
                after=st.integers(0, int(HORIZON.total_seconds() // 60)).map(lambda m: timedelta(minutes=m)),
                borrower=st.integers(0, len(zones) - 1),
                what=st.sampled_from([*OUTBOX_CHANNELS, "call", "call"]),
                outcome=st.sampled_from(CALL_OUTCOMES),
            ),
            min_size=1,
            max_size=24,
        )
    )
    return start, zones, sorted(planned, key=lambda p: p.after)


def queue(services: Services, case_id: str, loan_id: str, channel: str, now: datetime) -> None:
    """What a service task does: a row in the outbox of the case."""
    with services.db.write() as session:
        row_id = uuid7()
        session.add(
            OutboxMessage(
                id=row_id,
                case_id=uuid.UUID(case_id),
                loan_id=loan_id,
                channel=channel,
                operation=OUTBOX_CHANNELS[channel],
                element_id="schedule",
                idempotency_key=f"{case_id}:{row_id}",
                payload={"template": "reminder"},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def call(services: Services, case_id: str, outcome: str) -> None:
    with services.db.read() as session:
        task_id = session.scalar(
            select(HumanTask.id).where(HumanTask.case_id == uuid.UUID(case_id), HumanTask.status == "open")
        )
    assert task_id is not None
    services.tasks.claim(COLLECTOR, task_id)
    with suppress(ContactNotAllowed):  # refused: the collector tries again when the schedule says so
        services.tasks.complete(COLLECTOR, task_id, {"outcome": outcome})


def next_due(services: Services) -> datetime | None:
    with services.db.read() as session:
        query = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
        return session.scalar(query)


def quiet(moment: datetime, zone: str) -> bool:
    hour = moment.astimezone(ZoneInfo(zone)).hour
    return hour >= 22 or hour < 8


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules())
def test_no_schedule_gets_a_contact_into_quiet_hours_or_beyond_a_daily_cap(
    services: Services,
    clock: ManualClock,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
    schedule: tuple[datetime, list[str], list[Planned]],
) -> None:
    # examples share the database: each one has its own borrowers and drains its outbox
    begin, zones, planned = schedule
    clock.set(begin)
    tag = uuid.uuid4().hex[:8]
    borrowers = [f"P-{tag}-{i}" for i in range(len(zones))]
    loans = [f"L-{tag}-{i}" for i in range(len(zones))]
    cases = [
        start("c_calls", borrower_id=b, timezone=z, loan_id=loan)
        for b, z, loan in zip(borrowers, zones, loans, strict=True)
    ]

    pending = list(planned)
    while True:
        due = next_due(services)
        moments = [begin + p.after for p in pending[:1]] + ([due] if due is not None else [])
        if not moments:
            break
        clock.set(max(min(moments), clock.now()))
        while pending and begin + pending[0].after <= clock.now():
            item = pending.pop(0)
            if item.what == "call":
                call(services, cases[item.borrower], item.outcome)
            else:
                queue(services, cases[item.borrower], loans[item.borrower], item.what, clock.now())
        worker.run_once()

    for borrower, zone, case_id in zip(borrowers, zones, cases, strict=True):
        made = [c for c in contacts(services, borrower) if c.connected is not False or c.channel == "call"]
        assert not [c.at for c in made if quiet(c.at, zone)], "a contact in quiet hours"
        reached = [c for c in made if c.connected is not False]
        per_day = Counter(c.at.astimezone(ZoneInfo(zone)).date() for c in reached)
        calls_per_day = Counter(
            c.at.astimezone(ZoneInfo(zone)).date() for c in reached if c.channel == "call"
        )
        assert max(per_day.values(), default=0) <= 6
        assert max(calls_per_day.values(), default=0) <= 3

        with services.db.read() as session:
            rows = list(
                session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == uuid.UUID(case_id)))
            )
        assert {r.status for r in rows} <= {"sent", "dropped"}
        sent = {r.id for r in rows if r.status == "sent"}
        assert sent == {c.outbox_id for c in contacts(services, borrower) if c.outbox_id and c.connected}

        blocked = Counter(b.action for b in blocks(services, borrower))
        actions = Counter(e.action for e in history(services, case_id))
        assert actions["contact_deferred"] == blocked["defer"]
        assert actions["contact_dropped"] == blocked["drop"] == sum(r.status == "dropped" for r in rows)
        assert actions["contact_refused"] == blocked["refuse"]
        assert actions["contact_sent"] == len(sent)
        assert actions["contact_recorded"] == sum(1 for c in contacts(services, borrower) if c.task_id)
