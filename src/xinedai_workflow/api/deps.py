"""FastAPI dependencies: the service container and the authenticated principal with role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..auth.principal import Principal
from ..auth.tokens import TokenError
from ..container import Services
from ..errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, roles, groups.")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("a bearer token is required", code="missing_token")
    try:
        return services.verifier.verify(credentials.credentials)
    except TokenError as err:
        raise Unauthorized(f"the token is not valid: {err}", code="invalid_token") from err


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency that lets through callers with one of `roles` (admin always)."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.is_admin or principal.has(*roles):
            return principal
        raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}", code="role_not_allowed")

    return check


READ_CASES = ("system", "collector", "legal", "mediator", "supervisor", "compliance", "auditor")
WORK_TASKS = ("collector", "legal", "mediator", "supervisor")
READ_TASKS = (*WORK_TASKS, "auditor")

SystemCaller = Annotated[Principal, Depends(require("system"))]
CaseReader = Annotated[Principal, Depends(require(*READ_CASES))]
HistoryReader = Annotated[Principal, Depends(require(*READ_CASES))]
TaskReader = Annotated[Principal, Depends(require(*READ_TASKS))]
TaskWorker = Annotated[Principal, Depends(require(*WORK_TASKS))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
Deployer = Annotated[Principal, Depends(require("compliance"))]
DefinitionReader = Annotated[Principal, Depends(require("compliance", "auditor"))]
