"""The workbench: server-rendered pages for collectors, legal officers, mediators and
supervisors, served by `xinedai-workflow serve` at `/` beside the API (`/api/v1`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from .dashboard import router as dashboard_router
from .pages import router as pages_router
from .render import page
from .session import CsrfFailure, NotSignedIn
from .signin import router as signin_router
from .studio import router as studio_router

STATIC = Path(__file__).resolve().parent / "static"


def install_workbench(app: FastAPI) -> None:
    """Mount the static assets and the pages on `app`."""

    async def not_signed_in(request: Request, _exc: Exception) -> Response:
        target = "/login?next=" + quote(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        if request.method != "GET":
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(target, status_code=303)

    async def csrf_failed(request: Request, _exc: Exception) -> Response:
        return page(request, "error.html", None, status_code=403, key="csrf", message="")

    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(CsrfFailure, csrf_failed)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(signin_router)
    app.include_router(pages_router)
    app.include_router(dashboard_router)
    app.include_router(studio_router)
