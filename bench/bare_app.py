"""The floor for `GET /health`: a bare FastAPI app served with the same uvicorn settings as
`xinedai-workflow serve`, with a trivial route and the same `/health` handler (SELECT 1 on the
same database), but none of the service's middleware, routers or error handlers.

    .venv/bin/python -m bench.bare_app --port 8001     # XINEDAI_DATABASE_URL as for serve
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from xinedai_workflow.api.http_protocol import HeaderTimeoutH11Protocol
from xinedai_workflow.db.session import Database
from xinedai_workflow.settings import get_settings


def bare_app_factory() -> FastAPI:
    """FastAPI with `/ping` (no work) and `/health` (the service's handler body)."""
    db = Database(get_settings().database_url)
    app = FastAPI()

    @app.get("/ping")
    def ping() -> Any:
        return {"status": "ok"}

    @app.get("/health")
    def health() -> Any:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "database": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(  # the settings of cli.cmd_serve
        "bench.bare_app:bare_app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_level="warning",
        proxy_headers=True,
        http=HeaderTimeoutH11Protocol,
        h11_max_incomplete_event_size=get_settings().max_header_bytes,
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main()
