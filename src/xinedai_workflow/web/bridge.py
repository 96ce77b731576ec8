"""The studio's way into the API: `/studio/api/v1/...` is `/api/v1/...` for the signed-in person.

The studio's pages are browser pages (a session cookie, no bearer token), but they edit drafts
through the JSON API like any other client. This middleware reads the session, demands the
session's CSRF token on anything but GET/HEAD, puts the session's principal where the bearer
middleware puts a verified token's, and hands the request on under the API path. Only the API
parts the studio uses are reachable this way; every role and group check stays in the routers.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..api.errors import error_response
from ..auth.middleware import PRINCIPAL_KEY
from ..settings import Settings
from .session import CSRF_HEADER, NotSignedIn, read_session

PREFIX = "/studio/api"
# the API resources the studio calls (drafts, the simulator's results, batches, definitions)
REACHABLE = ("/api/v1/drafts", "/api/v1/simulations", "/api/v1/batches", "/api/v1/definitions")
SAFE_METHODS = ("GET", "HEAD")


class StudioBridge:
    """Serves `/studio/api/v1/...` as `/api/v1/...` with the session's principal."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        target = path[len("/studio") :]  # /studio/api/v1/x → /api/v1/x
        if not target.startswith(REACHABLE):
            await error_response(404, "not_found", "not reachable from the studio")(scope, receive, send)
            return
        request = Request(scope)
        try:
            user = read_session(self.settings, request)
        except NotSignedIn:
            await error_response(401, "not_signed_in", "sign in first")(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER) or "", user.csrf
        ):
            await error_response(403, "csrf", "the request lacks this session's CSRF token")(
                scope, receive, send
            )
            return
        inner = dict(scope)
        inner["path"] = target
        inner["raw_path"] = target.encode()
        inner["state"] = {**scope.get("state", {}), PRINCIPAL_KEY: user.principal}
        await self.app(inner, receive, send)
