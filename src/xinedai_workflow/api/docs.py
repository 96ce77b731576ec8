"""Swagger UI (`/docs`) and ReDoc (`/redoc`) served entirely by the service, for networks without
a CDN: the assets are the files of the `fastapi-offline` distribution (installed with the service),
served from `/docs/assets/`. The pages reference no other host: no Google Fonts, no online
validator badge, a local favicon.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def assets_dir() -> Path:
    """Where the installed Swagger UI and ReDoc files are."""
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def public_paths() -> tuple[str, ...]:
    """The docs pages and assets: readable without a token, like `/openapi.json`."""
    return (DOCS_URL, REDOC_URL, OAUTH2_REDIRECT_URL, *(f"{ASSETS_URL}/{name}" for name in ASSETS))


def install_docs(app: FastAPI) -> None:
    """Add the docs pages and their assets (create the app with `docs_url=None, redoc_url=None`)."""
    openapi_url = app.openapi_url or "/openapi.json"
    directory = assets_dir()
    missing = [name for name in ASSETS if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"API docs assets missing in {directory}: {missing}")

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            # the default validator badge loads an image from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    for name, media_type in ASSETS.items():
        app.add_api_route(
            f"{ASSETS_URL}/{name}",
            _asset(directory / name, media_type),
            methods=["GET"],
            include_in_schema=False,
        )


def _asset(path: Path, media_type: str) -> Callable[[], FileResponse]:
    def asset() -> FileResponse:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    return asset
