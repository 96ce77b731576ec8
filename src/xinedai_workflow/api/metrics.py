"""Prometheus metrics: request counts and latencies per route, plus business gauges at scrape time."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..clock import Clock
from ..db.models import Case, HumanTask, OutboxMessage, Timer
from ..db.session import Database


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "xinedai_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "xinedai_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.cases = Gauge("xinedai_cases", "Cases by status", ["status"], registry=self.registry)
        self.open_tasks = Gauge(
            "xinedai_open_tasks", "Open human tasks by lane", ["lane"], registry=self.registry
        )
        self.due_timers = Gauge("xinedai_timers_due", "Timers due and not yet fired", registry=self.registry)
        self.outbox = Gauge("xinedai_outbox", "Outbox messages by status", ["status"], registry=self.registry)
        self.incidents = Gauge(
            "xinedai_incidents",
            "Cases in error by process version and element",
            ["process_key", "version", "element_id"],
            registry=self.registry,
        )

    def install(self, app: FastAPI) -> None:
        app.add_middleware(_MeasureRequests, metrics=self)

    def render(self, db: Database, clock: Clock) -> bytes:
        with db.read() as session:
            for status, count in session.execute(select(Case.status, func.count()).group_by(Case.status)):
                self.cases.labels(status).set(count)
            for lane, count in session.execute(
                select(HumanTask.lane, func.count())
                .where(HumanTask.status == "open")
                .group_by(HumanTask.lane)
            ):
                self.open_tasks.labels(lane).set(count)
            self.due_timers.set(
                session.scalar(select(func.count()).select_from(Timer).where(Timer.due_at <= clock.now()))
                or 0
            )
            for status, count in session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ):
                self.outbox.labels(status).set(count)
            self.incidents.clear()  # a fixed incident disappears from the scrape
            for key, version, element, count in session.execute(
                select(Case.process_key, Case.definition_version, Case.error_element_id, func.count())
                .where(Case.status == "error")
                .group_by(Case.process_key, Case.definition_version, Case.error_element_id)
            ):
                self.incidents.labels(key, str(version), element or "").set(count)
        return generate_latest(self.registry)


class _MeasureRequests:
    """Counts and times requests per route: a plain ASGI middleware (the `@app.middleware("http")`
    kind runs every request through an extra task and a streamed copy of the response)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - start)


CONTENT_TYPE = CONTENT_TYPE_LATEST
