"""One simulated run: one bundle, one replication, on its own scratch SQLite database.

Time moves by the hour on a `ManualClock`. Every hour: due borrower payments go in as payment
events, the real worker fires due timers and passes the outbox through the contact guard to the
counting channel, and (in working hours) the simulated staff of each group claim and complete
their inbox's tasks through the real `TaskService`, up to the group's daily capacity; the rest
wait. Nothing here writes to a case except through the services the API uses.
"""

from __future__ import annotations

import heapq
import itertools
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..auth.principal import Principal
from ..cases import repository as case_rows
from ..channels.base import OutboundMessage
from ..clock import ManualClock
from ..compliance.guard import ContactNotAllowed
from ..db.models import Case, HumanTask
from ..db.schema_upgrade import upgrade_schema
from ..domain.process_rules import balance_on
from ..errors import Conflict, NotFound
from ..events.schemas import OverdueEvent, PaymentEvent
from ..events.service import overdue_variables
from ..settings import Settings
from ..worker.runner import Worker
from .borrowers import Behaviour, Borrower, PlannedPayment, draw_portfolio, money
from .channel import CountingChannel
from .forms import fill_form
from .metrics import collect
from .model import BehaviourModel

if TYPE_CHECKING:
    from ..bootstrap import Services

ACTOR = "system:simulator"


class ServiceFactory(Protocol):
    """`bootstrap.build_services` (passed in: the simulator is itself part of the service graph)."""

    def __call__(self, settings: Settings, clock: ManualClock) -> Services: ...


WORKER_ROUNDS = 50


class SimulationCancelled(Exception):
    """The run was asked to stop."""


class SimulationError(Exception):
    """The bundle and the model cannot be simulated together (a clear message says why)."""


@dataclass(order=True)
class _Due:
    at: datetime
    seq: int
    payment: PlannedPayment = field(compare=False)
    tag: str = field(compare=False, default="")


class SchemaTemplate:
    """A migrated empty database file, copied for every run (Alembic runs once per simulation)."""

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "template.db"
        upgrade_schema(f"sqlite:///{self.path}")

    def copy_to(self, target: Path) -> str:
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


def owed_today(variables: Mapping[str, Any], now: datetime, timezone: str) -> Decimal:
    """What the borrower owes now, as the process computes it (its ledger) or from the figures."""
    ledger = variables.get("ledger")
    if isinstance(ledger, Mapping) and "balance" in ledger:
        today = now.astimezone(ZoneInfo(timezone)).date()
        return Decimal(str(balance_on(ledger, today)["owed"]))
    for key in ("amount_owed", "overdue_amount"):
        if key in variables:
            return Decimal(str(variables[key]))
    return Decimal(0)


class VariantRun:
    """Runs one bundle's files with one model for `days` simulated days."""

    def __init__(
        self,
        files: Mapping[str, bytes],
        bundle_dir: Path,
        model: BehaviourModel,
        cases: int,
        days: int,
        seed: int,
        template: SchemaTemplate,
        workdir: Path,
        build: ServiceFactory,
        on_day: Callable[[int], None] | None = None,
    ) -> None:
        self.build = build
        self.files, self.bundle_dir, self.model = dict(files), bundle_dir, model
        self.cases, self.days, self.seed = cases, days, seed
        self.template, self.workdir, self.on_day = template, workdir, on_day
        self.behaviour = Behaviour(model)
        self.clock = ManualClock(model.start)
        self.start = model.start
        self.queue: list[_Due] = []
        self.seq = itertools.count()
        self.plan_generation: dict[str, int] = defaultdict(int)
        self.paid_total = Decimal(0)
        self.payments_refused = 0
        self.guard_refusals = 0
        self.done: dict[str, list[int]] = defaultdict(list)
        self.done_today: dict[str, int] = defaultdict(int)
        self.backlog: dict[str, list[int]] = defaultdict(list)
        self.cooldown: dict[uuid.UUID, datetime] = {}
        self.task_settings: dict[tuple[int, str], dict[str, Any]] = {}
        self.forms: dict[tuple[int, str], Any] = {}
        self.payment_n = itertools.count()

    # -- set-up -------------------------------------------------------------------------------
    def _services(self, url: str, key: str) -> Services:
        settings = Settings(
            database_url=url,
            processes_dir=self.bundle_dir,
            default_process_key=key,
            outbox_sink_dir=self.workdir / "sink",
            channel_gateway_url=None,
            worker_batch_size=1000,
            retention_purge_interval_seconds=10**9,
            worker_enabled=False,
            jwt_secret="simulation-scratch-database-only",
        )
        return self.build(settings, self.clock)

    def run(self, cancelled: Callable[[], bool] | None = None) -> dict[str, Any]:
        """Simulate; return the run's figures (see `metrics.collect`)."""
        url = self.template.copy_to(self.workdir / f"run-{uuid.uuid4().hex[:8]}.db")
        services = self._services(url, "xinedai_overdue")
        try:
            key = services.definitions.deploy(self.files, "system:simulator").key
            if key != services.settings.default_process_key:
                services.db.dispose()
                services = self._services(url, key)
            return self._simulate(services, key, cancelled)
        finally:
            services.db.dispose()

    def _simulate(self, services: Services, key: str, cancelled: Callable[[], bool] | None) -> dict[str, Any]:
        began = time.perf_counter()
        self.services, self.key = services, key
        self.channel = CountingChannel(self._sent)
        self.worker = Worker(services.worker_parts(), name="simulator", channel=self.channel)
        self.borrowers = {b.loan_id: b for b in draw_portfolio(self.model, self.cases, self.seed, self.start)}
        arrivals: dict[datetime, list[Borrower]] = defaultdict(list)
        for borrower in self.borrowers.values():
            arrivals[borrower.arrives_at].append(borrower)
        staff = self.model.staff
        zone = ZoneInfo(staff.get("timezone", "Asia/Shanghai"))
        hours = staff.get("working_hours", [9, 18])
        workdays = set(staff.get("working_days", [0, 1, 2, 3, 4]))
        capacity: dict[str, int] = dict(staff["capacity_per_day"])
        used: dict[str, int] = defaultdict(int)
        for hour in range(self.days * 24):
            now = self.start + timedelta(hours=hour)
            self.clock.set(now)
            if hour % 24 == 0:
                if cancelled is not None and cancelled():
                    raise SimulationCancelled()
                self._daily_payments(now)
            if now in arrivals:  # arrivals fall on whole hours from the start
                self._open(arrivals.pop(now))
            self._pay_due(now)
            self._run_worker()
            local = now.astimezone(zone)
            if local.hour == hours[0]:
                used.clear()
            if local.weekday() in workdays and hours[0] <= local.hour < hours[1]:
                left = hours[1] - local.hour
                for group in sorted(capacity):
                    budget = -(-(capacity[group] - used[group]) // left)  # spread the rest evenly
                    used[group] += self._work(group, min(budget, capacity[group] - used[group]), now)
                self._run_worker()
            if local.hour == (hours[1] % 24):
                self._end_of_day(capacity)
            if hour % 24 == 23 and self.on_day is not None:
                self.on_day(hour // 24 + 1)
        self.clock.set(self.start + timedelta(days=self.days))
        figures = collect(self, services)
        figures["_seconds"] = time.perf_counter() - began
        return figures

    # -- borrowers ----------------------------------------------------------------------------
    def _open(self, borrowers: list[Borrower]) -> None:
        now = self.clock.now()

        def work(session: Any) -> None:
            definition = self.services.registry.latest(session, self.key)
            for borrower in borrowers:
                event = OverdueEvent.model_validate(borrower.event)
                variables = {**overdue_variables(event), **borrower.extra}
                self.services.runtime.open(
                    session,
                    definition,
                    borrower.loan_id,
                    variables,
                    ACTOR,
                    now,
                    singleton_key=case_rows.singleton_key(self.key, borrower.loan_id),
                    start_data={"event_id": event.event_id, "variables": variables},
                )

        self.services.uow.write(work)

    def _schedule(self, payment: PlannedPayment | None, tag: str = "") -> None:
        if payment is not None:
            heapq.heappush(self.queue, _Due(payment.at, next(self.seq), payment, tag))

    def _daily_payments(self, now: datetime) -> None:
        active = self.services.uow.read(
            lambda s: set(s.scalars(select(Case.loan_id).where(Case.status == "active")))
        )
        for loan_id in sorted(active):
            self._schedule(self.behaviour.unprompted(self.borrowers[loan_id], now))

    def _pay_due(self, now: datetime) -> None:
        while self.queue and self.queue[0].at <= now:
            due = heapq.heappop(self.queue)
            if due.tag and due.tag != f"plan:{self.plan_generation[due.payment.loan_id]}":
                continue  # an instalment of a plan that was replaced
            self._pay(self.borrowers[due.payment.loan_id], due.payment, now)

    def _pay(self, borrower: Borrower, payment: PlannedPayment, now: datetime) -> None:
        variables = self.services.uow.read(
            lambda s: _variables(s, Case.loan_id == borrower.loan_id, Case.status == "active")
        )
        if variables is None:
            return
        owed = owed_today(variables, now, borrower.timezone)
        if owed <= 0:
            return
        if payment.amount is None:
            amount = owed
        elif payment.amount < 0:
            amount = self.behaviour.part_of(borrower, owed)
        else:
            amount = min(payment.amount, owed)
        event = PaymentEvent(
            event_id=f"sim-pay-{borrower.loan_id}-{next(self.payment_n)}",
            loan_id=borrower.loan_id,
            amount=str(money(amount)),
            paid_at=now,
            channel="simulated",
        )
        try:
            self.services.events.payment(event, ACTOR)
        except NotFound:
            self.payments_refused += 1
            return
        borrower.paid += money(amount)
        self.paid_total += money(amount)

    def _sent(self, message: OutboundMessage) -> None:
        if message.operation in self.model.metrics["letter_operations"]:
            borrower = self.borrowers.get(message.loan_id)
            if borrower is not None:
                self._schedule(self.behaviour.letter(borrower, self.clock.now()))

    def _run_worker(self) -> None:
        for _ in range(WORKER_ROUNDS):
            if not self.worker.run_once():
                return

    # -- staff --------------------------------------------------------------------------------
    def _principal(self, lane: str) -> Principal:
        role = self.model.role_of(lane)
        return Principal(sub=f"sim-{lane}", roles=frozenset({role}), groups=frozenset({lane}))

    def _work(self, group: str, budget: int, now: datetime) -> int:
        """Claim and complete up to `budget` tasks of `group` in inbox order; return the attempts."""
        if budget <= 0:
            return 0
        rows = self.services.uow.read(
            lambda s: [
                (row.id, row.element_id, row.loan_id, row.process_version_id, row.case_id)
                for row in s.execute(
                    select(
                        HumanTask.id,
                        HumanTask.element_id,
                        HumanTask.case_id,
                        Case.loan_id,
                        Case.process_version_id,
                    )
                    .join(Case, Case.id == HumanTask.case_id)
                    .where(HumanTask.status == "open", HumanTask.lane == group)
                    .order_by(
                        HumanTask.priority.desc(),
                        HumanTask.due_sort,
                        HumanTask.created_at,
                        Case.loan_id,
                        HumanTask.element_id,
                    )
                    .limit(budget * 3 + 20)
                ).all()
            ]
        )
        principal = self._principal(group)
        attempts = 0
        for task_id, element_id, loan_id, version_id, case_id in rows:
            if attempts >= budget:
                break
            if self.cooldown.get(task_id, now) > now:
                continue
            attempts += 1
            self._complete(principal, task_id, case_id, element_id, self.borrowers[loan_id], version_id, now)
        self.done_today[group] += attempts
        return attempts

    def _definition_parts(self, version_id: int, element_id: str) -> tuple[dict[str, Any], Any]:
        key = (version_id, element_id)
        if key not in self.task_settings:

            def read(session: Any) -> tuple[dict[str, Any], Any]:
                definition = self.services.registry.get(session, version_id)
                props = definition.user_task_settings(element_id)
                form_file = props.get("formJsonSchemaFilename")
                return props, definition.form(form_file) if form_file else None

            self.task_settings[key], self.forms[key] = self.services.uow.read(read)
        return self.task_settings[key], self.forms[key]

    def _complete(
        self,
        principal: Principal,
        task_id: uuid.UUID,
        case_id: uuid.UUID,
        element_id: str,
        borrower: Borrower,
        version_id: int,
        now: datetime,
    ) -> None:
        props, form = self._definition_parts(version_id, element_id)
        tasks = self.services.tasks
        try:
            tasks.claim(principal, task_id)
        except (Conflict, NotFound):
            return
        variables = self.services.uow.read(lambda s: _variables(s, Case.id == case_id)) or {}
        owed = owed_today(variables, now, borrower.timezone)
        today = borrower.local(now).date()
        preset: dict[str, Any] = {}
        promise: tuple[Decimal, date, bool] | None = None
        if props.get("contactChannel") == "call":
            preset, promise = self._call(borrower, now, owed)
        config = self.model.tasks.get(element_id, {})
        data = fill_form(form, element_id, config, borrower.rng, today, owed, preset)
        try:
            view = tasks.complete(principal, task_id, data)
        except ContactNotAllowed as err:
            self.guard_refusals += 1
            details = err.details if isinstance(err.details, Mapping) else {}
            retry = details.get("next_allowed_at")
            retry_at = datetime.fromisoformat(retry) if isinstance(retry, str) else now + timedelta(hours=1)
            self.cooldown[task_id] = max(retry_at, now + timedelta(hours=1))
            return
        except (Conflict, NotFound):
            return  # a payment or timer ended the task meanwhile
        self.cooldown.pop(task_id, None)
        if promise is not None:
            amount, on, full = promise
            self._schedule(self.behaviour.promise_payment(borrower, now, amount, on, full))
        if element_id in self.model.metrics["plan_tasks"]:
            self._plan(borrower, view.get("variables") or {})

    def _call(
        self, borrower: Borrower, now: datetime, owed: Decimal
    ) -> tuple[dict[str, Any], tuple[Decimal, date, bool] | None]:
        outcome = self.behaviour.call_outcome(borrower, now)
        data: dict[str, Any] = {"outcome": outcome}
        if outcome == "promise_to_pay":
            amount, on = self.behaviour.promise(borrower, now, owed)
            amount = max(amount, Decimal("0.01"))
            data.update(promised_amount=str(money(amount)), promised_date=on.isoformat())
            return data, (amount, on, amount >= owed)
        if outcome == "hardship":
            data.update(
                income=str(self.behaviour.income(borrower)),
                family_burden="模拟：家庭负担较重",
                other_debts=str(money(owed / 2)),
            )
        elif outcome == "dispute":
            data["dispute_reason"] = "模拟：借款人对欠款金额有异议"
        return data, None

    def _plan(self, borrower: Borrower, variables: Mapping[str, Any]) -> None:
        plan = variables.get("plan")
        schedule = plan.get("instalments") if isinstance(plan, Mapping) else None
        if not isinstance(schedule, list):
            return
        self.plan_generation[borrower.loan_id] += 1
        tag = f"plan:{self.plan_generation[borrower.loan_id]}"
        for payment in self.behaviour.instalments(borrower, schedule):
            self._schedule(payment, tag)

    def _end_of_day(self, capacity: Mapping[str, int]) -> None:
        open_by_lane = self.services.uow.read(_open_by_lane)
        for group in sorted(set(capacity) | set(open_by_lane)):
            self.done[group].append(self.done_today.pop(group, 0))
            self.backlog[group].append(int(open_by_lane.get(group, 0)))


def _variables(session: Any, *where: Any) -> dict[str, Any] | None:
    found = session.scalars(select(Case.variables).where(*where).limit(1)).first()
    return dict(found) if found is not None else None


def _open_by_lane(session: Any) -> dict[str, int]:
    rows = session.execute(
        select(HumanTask.lane, func.count()).where(HumanTask.status == "open").group_by(HumanTask.lane)
    ).all()
    return {str(lane): int(count) for lane, count in rows}


def scratch_dir(parent: Path | None = None) -> Path:
    """A fresh temporary directory for the scratch databases."""
    return Path(tempfile.mkdtemp(prefix="xinedai-sim-", dir=parent))
