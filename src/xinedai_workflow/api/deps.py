"""FastAPI dependencies: the services a router needs, and the authenticated principal with role checks.

`provided(SomeService)` hands a router the instance the app was built with (`app.state.providers`,
filled by `bootstrap`), so no router and nothing here imports the wiring. The role table of the
contract (../shared/docs/api.md) as dependencies; `admin` passes every one. Group checks (lanes)
happen in the services, where an invisible task or case answers 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..auth.middleware import PRINCIPAL_KEY
from ..auth.principal import Principal
from ..auth.tokens import TokenError, TokenVerifier
from ..errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, roles, groups.")


# The dependencies are `async def` although they do no I/O: FastAPI runs a plain `def` dependency
# in the thread pool, a thread hop per dependency and request for a few attribute reads.


T = TypeVar("T")


def provided(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving the app's instance of `kind` (a service, the token verifier, ...)."""

    async def get(request: Request) -> T:
        providers: Mapping[type[Any], object] = request.app.state.providers
        return cast(T, providers[kind])

    get.__name__ = f"provide_{kind.__name__}"
    return get


VerifierDep = Annotated[TokenVerifier, Depends(provided(TokenVerifier))]


async def get_principal(
    request: Request,
    verifier: VerifierDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, as the authentication middleware verified it (or verified here)."""
    verified = getattr(request.state, PRINCIPAL_KEY, None)
    if isinstance(verified, Principal):
        return verified
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("a bearer token is required", code="missing_token")
    try:
        return verifier.verify(credentials.credentials)
    except TokenError as err:
        raise Unauthorized(f"the token is not valid: {err}", code="invalid_token") from err


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers with one of `roles` (admin always)."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.is_admin or principal.has(*roles):
            return principal
        raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}", code="role_not_allowed")

    return check


WORK_TASKS = ("collector", "legal", "mediator", "supervisor")
READ_CASES = ("system", *WORK_TASKS, "compliance", "auditor")
READ_TASKS = (*WORK_TASKS, "auditor")
AUDIT = ("compliance", "auditor")

SystemCaller = Annotated[Principal, Depends(require("system"))]
CaseReader = Annotated[Principal, Depends(require(*READ_CASES))]
HistoryReader = Annotated[Principal, Depends(require(*READ_CASES))]
TaskReader = Annotated[Principal, Depends(require(*READ_TASKS))]
TaskWorker = Annotated[Principal, Depends(require(*WORK_TASKS))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
Deployer = Annotated[Principal, Depends(require("compliance"))]
DefinitionReader = Annotated[Principal, Depends(require("compliance", "auditor"))]
AuditReader = Annotated[Principal, Depends(require(*AUDIT))]
