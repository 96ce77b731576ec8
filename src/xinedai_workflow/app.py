"""The FastAPI application factory. The lifespan runs the embedded worker when enabled."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from . import __version__
from .agencies.router import router as agencies_router
from .api.deps import require
from .api.docs import install_docs
from .api.docs import public_paths as docs_public_paths
from .api.errors import ERROR_RESPONSES, install_error_handlers
from .api.limits import BodyReadTimeout, BodySizeLimit, RejectNulCharacters
from .api.metrics import CONTENT_TYPE, Metrics
from .auth.middleware import BearerAuthentication
from .auth.principal import Principal
from .batches.router import router as batches_router
from .bootstrap import Services, build_services, build_worker
from .bureau.router import router as bureau_router
from .cases.router import router as cases_router
from .clock import Clock
from .complaints.router import router as complaints_router
from .compliance.router import router as compliance_router
from .definitions.router import router as definitions_router
from .events.router import router as events_router
from .history.router import router as audit_router
from .incidents.router import router as incidents_router
from .migration.router import router as migration_router
from .reports.router import router as reports_router
from .settings import Settings, get_settings
from .simulation.router import router as simulations_router
from .studio.router import router as studio_router
from .tasks.router import next_router as tasks_next_router
from .tasks.router import router as tasks_router
from .web import install_workbench
from .web.bridge import StudioBridge
from .web.headers import WebSecurityHeaders, is_web_path

log = logging.getLogger("xinedai_workflow")
PUBLIC_AGENCIES = "/api/v1/agencies/public"  # the partner-agency list is public (CBA guideline)

DESCRIPTION = """Workflow engine for the staged handling of overdue 薪e贷 loans.

Diagrams (BPMN 2.0 + DMN) under `processes/` are deployed as versions; cases run on SpiffWorkflow.
Every endpoint but `/health` needs `Authorization: Bearer <JWT>` (claims `sub`, `roles`, `groups`).
Errors always have the body `{"error": {"code", "message", "details"}}`.
"""


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    services: Services | None = None,
    run_worker: bool | None = None,
) -> FastAPI:
    """Build the app. `run_worker` (default: the setting) starts the in-process worker thread."""
    settings = settings or (services.settings if services else get_settings())
    services = services or build_services(settings, clock)
    embedded_worker = settings.worker_enabled if run_worker is None else run_worker
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if embedded_worker:
            worker = build_worker(services)
            thread = threading.Thread(
                target=worker.run_forever, args=(stop,), name="xinedai-worker", daemon=True
            )
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=10)

    app = FastAPI(
        title="xinedai-workflow",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={k: v for k, v in ERROR_RESPONSES.items() if k in (401, 403, 413, 422)},
        docs_url=None,  # served from local assets by install_docs, not from a CDN
        redoc_url=None,
    )
    app.state.providers = services.providers()
    install_error_handlers(app)
    install_docs(app)
    public = ("/health", PUBLIC_AGENCIES, app.openapi_url, *docs_public_paths())
    app.add_middleware(
        BearerAuthentication, verifier=services.verifier, public_paths=public, own_auth=is_web_path
    )
    app.add_middleware(StudioBridge, settings=settings)  # outside the bearer check: session → principal
    metrics.install(app)
    app.add_middleware(RejectNulCharacters)  # inside the size limit: it reads bounded bodies only
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(WebSecurityHeaders)
    app.add_middleware(BodyReadTimeout, seconds=settings.body_read_timeout_seconds)

    @app.get("/health", tags=["operations"])
    def health() -> Any:
        """Liveness and database reachability (no authentication)."""
        try:
            with services.db.read() as session:
                session.execute(text("SELECT 1"))
        except Exception as err:
            log.warning("health check: database unreachable: %s", err)
            body = {
                "status": "unavailable",
                "database": "unreachable",
                "error": {
                    "code": "database_unavailable",
                    "message": "the database is not reachable",
                    "details": None,
                },
            }
            return JSONResponse(body, status_code=503)
        return {"status": "ok", "database": "ok"}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def prometheus(_p: Annotated[Principal, Depends(require("system", "auditor"))]) -> Response:
        """Prometheus text format."""
        return Response(metrics.render(services.db, services.clock), media_type=CONTENT_TYPE)

    app.include_router(definitions_router)
    app.include_router(events_router)
    app.include_router(cases_router)
    app.include_router(tasks_router)
    app.include_router(tasks_next_router)
    app.include_router(audit_router)
    app.include_router(reports_router)
    app.include_router(compliance_router)
    app.include_router(migration_router)
    app.include_router(batches_router)
    app.include_router(simulations_router)
    app.include_router(agencies_router)
    app.include_router(complaints_router)
    app.include_router(bureau_router)
    app.include_router(incidents_router)
    app.include_router(studio_router)
    install_workbench(app)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory xinedai_workflow.app:app_factory`."""
    return create_app()
