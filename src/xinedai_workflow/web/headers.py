"""Which paths the workbench owns, and the security headers of its responses."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The workbench's paths; everything else (the API, unknown paths) stays behind bearer tokens.
WEB_PREFIXES = (
    "/static/",
    "/desk",
    "/task/",
    "/case/",
    "/dashboard",
    "/login",
    "/logout",
    "/oidc/",
    "/lang",
    "/studio",
)

# No inline script, no eval, nothing from another origin. Inline style *attributes* are allowed
# because bpmn-js and ECharts position their overlays and tooltips with them (no script can run
# from a style attribute).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PREFIXES)


class WebSecurityHeaders:
    """Adds the CSP and friends to every workbench response (not to the API or /docs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                # pages carry personal data: never stored; assets: revalidated after an hour
                headers.setdefault("cache-control", "public, max-age=3600" if is_static else "no-store")
                if scope.get("scheme") == "https":
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, with_headers)
