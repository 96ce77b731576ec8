"""The workbench's sign-in session and CSRF protection.

The session cookie holds a short JWT signed (HS256) with the service's secret: `sub`, `roles`,
`groups`, the display name and an expiry. It is stateless, so any replica accepts it; local
sign-in and OIDC both end in one. The cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` when the
request came over TLS (directly or through the proxy's `X-Forwarded-Proto`). The CSRF token is an
HMAC of the session token: every POST must carry it (form field `csrf`, or header `X-CSRF-Token`
that htmx sends), and a token from another session does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from fastapi import Request
from fastapi.responses import Response

from ..auth.principal import Principal
from ..settings import Settings

SESSION_COOKIE = "xinedai_session"
LANG_COOKIE = "xinedai_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_AUDIENCE_SUFFIX = ":web-session"  # a session token is never accepted as an API token


class NotSignedIn(Exception):
    """No valid session: a page redirects to the sign-in page."""


class CsrfFailure(Exception):
    """A POST without the session's CSRF token."""


@dataclass(frozen=True)
class WebUser:
    """The person signed in, their display name and this session's CSRF token."""

    principal: Principal
    name: str
    csrf: str


def _audience(settings: Settings) -> str:
    return settings.jwt_audience + SESSION_AUDIENCE_SUFFIX


def issue_session(settings: Settings, sub: str, roles: list[str], groups: list[str], name: str) -> str:
    """A session token for a person who signed in."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": roles,
        "groups": groups,
        "name": name,
        "iss": settings.jwt_issuer,
        "aud": _audience(settings),
        "iat": now,
        "exp": now + settings.web_session_ttl_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def csrf_token(settings: Settings, session_token: str) -> str:
    mac = hmac.new(settings.jwt_secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def read_session(settings: Settings, request: Request) -> WebUser:
    """The signed-in person of this request, or NotSignedIn."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=_audience(settings),
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
    except jwt.PyJWTError as err:
        raise NotSignedIn from err
    principal = Principal(
        sub=str(claims["sub"]),
        roles=frozenset(str(r) for r in claims.get("roles") or ()),
        groups=frozenset(str(g) for g in claims.get("groups") or ()),
    )
    return WebUser(principal, str(claims.get("name") or claims["sub"]), csrf_token(settings, token))


def check_csrf(user: WebUser, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, user.csrf):
        raise CsrfFailure


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=is_tls(request),
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=is_tls(request), samesite="lax")
