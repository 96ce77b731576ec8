"""Work figures for the supervisor dashboard: open, past-due and completed tasks per group and
per person, and the incidents (cases in `error`). A supervisor sees the lanes they work; the
roles that see every task (auditor, admin) see all lanes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select

from ..auth.principal import Principal
from ..auth.visibility import visible_tasks
from ..clock import Clock
from ..db.models import Case, HumanTask
from ..db.session import Database

MAX_INCIDENTS = 100


class WorkloadService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def workload(self, principal: Principal, start: datetime, end: datetime) -> dict[str, Any]:
        """Per group: open, unassigned, past due, completed in [start, end); per person likewise."""
        now = self.clock.now()
        scope = visible_tasks(principal) if not principal.reads_everything else HumanTask.id.is_not(None)
        with self.db.read() as session:
            open_rows = session.execute(
                select(
                    HumanTask.lane,
                    HumanTask.assignee,
                    func.count(),
                    func.sum(when((HumanTask.due_at < now, 1), else_=0)),
                )
                .where(HumanTask.status == "open", scope)
                .group_by(HumanTask.lane, HumanTask.assignee)
            ).all()
            done_rows = session.execute(
                select(HumanTask.lane, HumanTask.completed_by, func.count())
                .where(
                    HumanTask.status == "completed",
                    HumanTask.ended_at >= start,
                    HumanTask.ended_at < end,
                    scope,
                )
                .group_by(HumanTask.lane, HumanTask.completed_by)
            ).all()
        groups: dict[str, dict[str, int]] = {}
        people: dict[str, dict[str, int]] = {}
        blank = {"open": 0, "unassigned": 0, "past_due": 0, "completed": 0}
        for lane, assignee, count, late in open_rows:
            g = groups.setdefault(lane, dict(blank))
            g["open"] += count
            g["past_due"] += int(late or 0)
            if assignee is None:
                g["unassigned"] += count
            else:
                p = people.setdefault(assignee, dict(blank))
                p["open"] += count
                p["past_due"] += int(late or 0)
        for lane, who, count in done_rows:
            groups.setdefault(lane, dict(blank))["completed"] += count
            if who:
                people.setdefault(who, dict(blank))["completed"] += count
        return {
            "groups": dict(sorted(groups.items())),
            "people": dict(sorted(people.items())),
            "past_due": sum(g["past_due"] for g in groups.values()),
        }

    def incidents(self, process_key: str | None = None) -> dict[str, Any]:
        """Cases in `error` (newest first), with the failing element and message."""
        with self.db.read() as session:
            query = select(Case).where(Case.status == "error")
            if process_key:
                query = query.where(Case.process_key == process_key)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(Case.updated_at.desc()).limit(MAX_INCIDENTS))
            items = [
                {
                    "case_id": str(c.id),
                    "loan_id": c.loan_id,
                    "element_id": c.error_element_id,
                    "message": (c.error_message or "")[:300],
                    "since": c.updated_at,
                }
                for c in rows
            ]
        return {"count": int(total), "items": items}
