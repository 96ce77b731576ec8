"""Authentication before anything else: every request but the public pages needs a valid token.

FastAPI reads (and may refuse) a request body before it runs the route's dependencies, and it
answers 404/405 for unknown paths; doing authentication here first means an anonymous caller gets
401 for everything — no body parsing, no route probing. Role and group checks stay in the route
dependencies (`api/deps.py`), which read the principal this middleware verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..api.errors import error_response
from .tokens import TokenError, TokenVerifier

PRINCIPAL_KEY = "principal"


class BearerAuthentication:
    """Verifies `Authorization: Bearer <JWT>` and stores the principal in the request state."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        public_paths: Iterable[str | None],
        own_auth: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.public = frozenset(p for p in public_paths if p)
        # paths that authenticate on their own (the workbench's pages: a session cookie)
        self.own_auth = own_auth or (lambda _path: False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public or self.own_auth(scope["path"]):
            await self.app(scope, receive, send)
            return
        if PRINCIPAL_KEY in scope.get("state", {}):  # a session an outer middleware verified (studio)
            await self.app(scope, receive, send)
            return
        scheme, _, token = (Headers(scope=scope).get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            response = error_response(
                401, "missing_token", "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
            await response(scope, receive, send)
            return
        try:
            principal = self.verifier.verify(token.strip())
        except TokenError as err:
            response = error_response(
                401,
                "invalid_token",
                f"the token is not valid: {err}",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)
