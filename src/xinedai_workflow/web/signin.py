"""Sign-in and sign-out: local users (Argon2id hashes in `XINEDAI_WEB_USERS_FILE`) and, when
configured, the bank's IdP over OIDC (code + PKCE). Both end in the same session cookie."""

from __future__ import annotations

import secrets
import time
from typing import Annotated

import jwt
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..auth.principal import ROLES
from .i18n import LANGUAGES
from .oidc import OidcClient, OidcError, Pending
from .pages import Poster
from .parts import WebParts, WebPartsDep
from .render import page
from .session import (
    LANG_COOKIE,
    clear_session_cookie,
    is_tls,
    issue_session,
    set_session_cookie,
)
from .users import UserFileError, authenticate, load_users

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "xinedai_login_csrf"
OIDC_COOKIE = "xinedai_oidc"
OIDC_PENDING_SECONDS = 600
ServicesDep = WebPartsDep


def safe_next(value: str | None) -> str:
    """Only a local path (no scheme, no host, no `//`): the sign-in never redirects elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def oidc_client(request: Request, services: WebParts) -> OidcClient | None:
    client: OidcClient | None = getattr(request.app.state, "oidc_client", None)
    if client is None and services.settings.oidc_issuer and services.settings.oidc_client_id:
        client = OidcClient(services.settings)
        request.app.state.oidc_client = client
    return client


def _redirect_uri(request: Request, services: WebParts) -> str:
    return services.settings.oidc_redirect_url or str(request.url_for("oidc_callback"))


def _login_page(request: Request, services: WebParts, error: str | None, status: int = 200) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    try:
        has_local = bool(load_users(services.settings.web_users_file))
    except UserFileError:
        has_local = False
    response = page(
        request,
        "login.html",
        None,
        status_code=status,
        csrf=token,
        error=error,
        next_path=safe_next(request.query_params.get("next")),
        oidc=bool(services.settings.oidc_issuer and services.settings.oidc_client_id),
        has_local=has_local,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=is_tls(request), samesite="strict")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, services: ServicesDep) -> HTMLResponse:
    return _login_page(request, services, None)


@router.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf):
        return _login_page(request, services, "csrf", status=403)
    user = await run_in_threadpool(authenticate, services.settings.web_users_file, username, password)
    if user is None:
        return _login_page(request, services, "bad_login", status=401)
    token = issue_session(services.settings, user.username, list(user.roles), list(user.groups), user.name)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(response, request, token, services.settings.web_session_ttl_seconds)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, _user: Poster) -> Response:
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, httponly=True, secure=is_tls(request), samesite="lax"
        )
    return response


# -- OIDC --------------------------------------------------------------------------------------
@router.get("/oidc/login")
def oidc_login(request: Request, services: ServicesDep, next: str = "/") -> Response:
    client = oidc_client(request, services)
    if client is None:
        return RedirectResponse("/login", status_code=303)
    try:
        url, pending = client.start(_redirect_uri(request, services), safe_next(next))
    except OidcError as err:
        return _login_page(request, services, f"sso:{err}", status=502)
    cookie = jwt.encode(
        {**pending.__dict__, "exp": int(time.time()) + OIDC_PENDING_SECONDS},
        services.settings.jwt_secret,
        algorithm="HS256",
    )
    response = RedirectResponse(url, status_code=303)
    # Lax: the IdP's redirect back is a top-level GET, which carries Lax cookies
    response.set_cookie(
        OIDC_COOKIE,
        cookie,
        max_age=OIDC_PENDING_SECONDS,
        httponly=True,
        secure=is_tls(request),
        samesite="lax",
        path="/oidc/",
    )
    return response


@router.get("/oidc/callback", name="oidc_callback")
def oidc_callback(
    request: Request, services: ServicesDep, code: str = "", state: str = "", error: str = ""
) -> Response:
    client = oidc_client(request, services)
    if client is None:
        return RedirectResponse("/login", status_code=303)
    try:
        if error:
            raise OidcError(error[:200])
        raw = jwt.decode(
            request.cookies.get(OIDC_COOKIE) or "", services.settings.jwt_secret, algorithms=["HS256"]
        )
        pending = Pending(raw["state"], raw["nonce"], raw["verifier"], raw["next_path"])
        identity = client.finish(pending, state, code, _redirect_uri(request, services))
    except (OidcError, jwt.PyJWTError, KeyError) as err:
        message = str(err) if isinstance(err, OidcError) else "the sign-in expired; try again"
        return _login_page(request, services, f"sso:{message}", status=401)
    roles = [r for r in identity.roles if r in ROLES]
    token = issue_session(services.settings, identity.sub, roles, identity.groups, identity.name)
    response = RedirectResponse(safe_next(pending.next_path), status_code=303)
    set_session_cookie(response, request, token, services.settings.web_session_ttl_seconds)
    response.delete_cookie(OIDC_COOKIE, path="/oidc/")
    return response
