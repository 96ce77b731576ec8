"""OIDC sign-in against the bank's IdP: authorization code flow with PKCE (S256), `state` and
`nonce`, the ID token's signature checked against the IdP's JWKS, issuer, audience and expiry.
Roles and groups come from the ID token's claims (`XINEDAI_OIDC_ROLES_CLAIM` / `_GROUPS_CLAIM`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from ..settings import Settings

DISCOVERY_TTL_SECONDS = 3600
LEEWAY_SECONDS = 30


class OidcError(Exception):
    """The IdP answered something we cannot accept (the message is safe to show)."""


@dataclass(frozen=True)
class Pending:
    """What the browser carries (in a short-lived HttpOnly cookie) between redirect and callback."""

    state: str
    nonce: str
    verifier: str
    next_path: str


@dataclass(frozen=True)
class Identity:
    sub: str
    name: str
    roles: list[str]
    groups: list[str]


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


class OidcClient:
    """One configured IdP. `http` is injectable (tests point it at a local fake IdP)."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("OIDC needs XINEDAI_OIDC_ISSUER and XINEDAI_OIDC_CLIENT_ID")
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.http = http or httpx.Client(timeout=10.0)
        self._lock = threading.Lock()
        self._meta: dict[str, Any] | None = None
        self._meta_at = 0.0
        self._jwks: jwt.PyJWKSet | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise OidcError(f"the identity provider is not reachable ({type(err).__name__})") from err
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._meta is None or time.monotonic() - self._meta_at > DISCOVERY_TTL_SECONDS:
                meta = self._get(f"{self.issuer}/.well-known/openid-configuration")
                if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                    raise OidcError("the identity provider's metadata names another issuer")
                self._meta, self._meta_at, self._jwks = meta, time.monotonic(), None
            return self._meta

    def _keys(self, refresh: bool = False) -> jwt.PyJWKSet:
        meta = self.metadata()
        with self._lock:
            if self._jwks is None or refresh:
                self._jwks = jwt.PyJWKSet.from_dict(self._get(str(meta["jwks_uri"])))
            return self._jwks

    def start(self, redirect_uri: str, next_path: str) -> tuple[str, Pending]:
        """The IdP's authorization URL and what to remember until the callback."""
        pending = Pending(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            next_path=next_path,
        )
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.oidc_scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}", pending

    def finish(self, pending: Pending, state: str, code: str, redirect_uri: str) -> Identity:
        """Exchange the code (with the PKCE verifier) and check the ID token."""
        if not secrets.compare_digest(state, pending.state):
            raise OidcError("the sign-in answer does not belong to this browser (state)")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": str(self.settings.oidc_client_id),
            "code_verifier": pending.verifier,
        }
        secret = self.settings.oidc_client_secret
        try:
            url = str(self.metadata()["token_endpoint"])
            if secret:  # a confidential client authenticates with HTTP Basic (client_secret_basic)
                auth = httpx.BasicAuth(str(self.settings.oidc_client_id), secret)
                response = self.http.post(url, data=form, auth=auth)
            else:
                response = self.http.post(url, data=form)
        except httpx.HTTPError as err:
            raise OidcError(f"the identity provider is not reachable ({type(err).__name__})") from err
        if response.status_code != 200:
            raise OidcError(f"the identity provider refused the code (HTTP {response.status_code})")
        id_token = (response.json() or {}).get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the identity provider sent no ID token")
        claims = self._verify(id_token)
        if not secrets.compare_digest(str(claims.get("nonce", "")), pending.nonce):
            raise OidcError("the ID token's nonce does not match")
        return Identity(
            sub=str(claims["sub"]),
            name=str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
            roles=_as_list(claims.get(self.settings.oidc_roles_claim)),
            groups=_as_list(claims.get(self.settings.oidc_groups_claim)),
        )

    def _verify(self, id_token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            keys = self._keys()
            if kid is not None and kid not in {k.key_id for k in keys.keys}:
                keys = self._keys(refresh=True)  # the IdP rotated its keys
            key = keys[kid] if kid is not None else keys.keys[0]
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256", "ES256", "PS256"],
                audience=self.settings.oidc_client_id,
                issuer=self.metadata()["issuer"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except (jwt.PyJWTError, KeyError, IndexError) as err:
            raise OidcError(f"the ID token is not valid: {err}") from err
        return claims
