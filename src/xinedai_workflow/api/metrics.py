"""Prometheus metrics: request counts and latencies per route, plus business gauges at scrape time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from ..container import Services
from ..db.models import Case, HumanTask, OutboxMessage, Timer


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

    def install(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            start = time.perf_counter()
            response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", "unmatched")
            self.requests.labels(request.method, route, str(response.status_code)).inc()
            self.latency.labels(request.method, route).observe(time.perf_counter() - start)
            return response

    def render(self, services: Services) -> bytes:
        with services.db.read() as session:
            for status, count in session.execute(select(Case.status, func.count()).group_by(Case.status)):
                self.cases.labels(status).set(count)
            for lane, count in session.execute(
                select(HumanTask.lane, func.count())
                .where(HumanTask.status == "open")
                .group_by(HumanTask.lane)
            ):
                self.open_tasks.labels(lane).set(count)
            self.due_timers.set(
                session.scalar(
                    select(func.count()).select_from(Timer).where(Timer.due_at <= services.clock.now())
                )
                or 0
            )
            for status, count in session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ):
                self.outbox.labels(status).set(count)
        return generate_latest(self.registry)


CONTENT_TYPE = CONTENT_TYPE_LATEST
