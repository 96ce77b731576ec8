"""Minting and verifying JWTs: HS256 with a shared secret by default, RS256 with a public key / JWKS.

Every token must carry `sub`, `exp`, `iss` and `aud`; signature, expiry (30 s leeway for clock
skew between the IdP and us), issuer and audience are checked on every request. Only the
configured algorithm is accepted, so an RS256 deployment cannot be fooled by an HS256 token signed
with its public key, and `alg: none` never passes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWK

from ..settings import Settings
from .principal import AGENCY_ROLE, ROLES, Principal

log = logging.getLogger("xinedai_workflow.auth")

LEEWAY_SECONDS = 30
DEVELOPMENT_SECRET = Settings.model_fields["jwt_secret"].default
_MIN_RELOAD_INTERVAL_SECONDS = 5.0


class TokenError(Exception):
    """The token is missing, malformed, expired, or not for us."""


def mint_token(
    settings: Settings,
    sub: str,
    roles: Sequence[str],
    groups: Sequence[str] = (),
    ttl_seconds: int | None = None,
    agency: str | None = None,
) -> str:
    """A token signed with the configured HS256 secret (the embedded default). An
    `agency_collector` token must name its agency (claim `agency`)."""
    if settings.jwt_algorithm.upper() != "HS256":
        raise ValueError(
            "tokens can only be minted for the embedded HS256 default; "
            f"with {settings.jwt_algorithm} the bank's identity provider issues them"
        )
    if not sub:
        raise ValueError("sub must not be empty")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}")
    if AGENCY_ROLE in roles and not agency:
        raise ValueError(f"a {AGENCY_ROLE} token needs --agency (the agency's id)")
    ttl = ttl_seconds if ttl_seconds is not None else settings.jwt_default_ttl_seconds
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    if ttl > settings.jwt_max_ttl_seconds:
        raise ValueError(
            f"ttl must be at most {settings.jwt_max_ttl_seconds} s (XINEDAI_JWT_MAX_TTL_SECONDS)"
        )
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": list(roles),
        "groups": list(groups),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    if agency:
        claims["agency"] = agency
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _jwks_keys(document: Any, source: Path) -> dict[str | None, Any]:
    """Signing keys of a JWKS document usable for RS256, by `kid`."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError(f"{source}: a JWKS file needs a 'keys' list")
    keys: dict[str | None, Any] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        try:
            keys[entry.get("kid")] = PyJWK(entry, algorithm="RS256").key
        except jwt.PyJWTError as err:
            raise ValueError(f"{source}: key {entry.get('kid')!r} is not a valid RSA key: {err}") from err
    if not keys:
        raise ValueError(f"{source}: no RSA signing key (kty RSA, use sig, alg RS256) in the JWKS")
    return keys


def load_public_keys(path: Path) -> dict[str | None, Any]:
    """A PEM public key (kid None) or the RS256 keys of a JWKS file."""
    text = path.read_text()
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as err:
            raise ValueError(f"{path}: not valid JSON: {err}") from err
        return _jwks_keys(document, path)
    if "PUBLIC KEY" not in text and "CERTIFICATE" not in text:
        raise ValueError(f"{path}: expected a PEM public key or a JWKS document")
    return {None: text}


VERIFIED_CACHE_SIZE = 10_000


class TokenVerifier:
    """Verifies signature, expiry, issuer and audience, and reads the principal from the claims."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm.upper()
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.max_ttl = settings.jwt_max_ttl_seconds
        self._key_file = settings.jwt_public_key_file
        self._key_file_mtime = 0.0
        self._last_reload = 0.0
        self._lock = threading.Lock()
        self._keys: dict[str | None, Any] = {}
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        if self.algorithm == "HS256":
            if settings.jwt_secret == DEVELOPMENT_SECRET:
                log.warning("XINEDAI_JWT_SECRET is the development default; set a secret in production")
            self._keys[None] = settings.jwt_secret
        elif self.algorithm == "RS256":
            if self._key_file is None:
                raise ValueError("RS256 needs XINEDAI_JWT_PUBLIC_KEY_FILE (PEM public key or JWKS)")
            self._load()
        else:
            raise ValueError(f"unsupported JWT algorithm {settings.jwt_algorithm!r} (HS256 or RS256)")

    def _load(self) -> None:
        assert self._key_file is not None
        self._key_file_mtime = self._key_file.stat().st_mtime
        self._keys = load_public_keys(self._key_file)
        self._verified = OrderedDict()  # a retired key must stop vouching for tokens verified with it

    def _reload_if_rotated(self) -> None:
        """The IdP rotated its keys: pick up a changed JWKS file (at most every few seconds)."""
        if self._key_file is None:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._last_reload < _MIN_RELOAD_INTERVAL_SECONDS:
                return
            self._last_reload = now
            try:
                if self._key_file.stat().st_mtime != self._key_file_mtime:
                    self._load()
                    log.info("reloaded the JWT public keys from %s", self._key_file)
            except (OSError, ValueError) as err:
                log.error("could not reload the JWT public keys from %s: %s", self._key_file, err)

    def _key_for(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid not in self._keys:
            self._reload_if_rotated()
        if kid not in self._keys:
            if None in self._keys and len(self._keys) == 1:  # a single PEM key: the kid is informative
                return self._keys[None]
            raise TokenError("the token's signing key (kid) is not known")
        return self._keys[kid]

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; TokenError otherwise.

        A verified token is remembered until it expires: a busy client sends the same token on
        every request, and the signature check is a measurable part of each request's CPU.
        """
        now = time.time()
        with self._lock:
            cached = self._verified.get(token)
            if cached is not None:
                if cached[1] > now:
                    self._verified.move_to_end(token)  # least recently used goes first
                    return cached[0]
                del self._verified[token]  # expired: verified afresh (and refused)
        principal, expires = self._verify(token)
        with self._lock:
            self._verified[token] = (principal, expires)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """A stolen token must not stay valid for ever: exp at most `max_ttl` after iat (and
        after now, for tokens without iat)."""
        exp = claims["exp"]
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise TokenError("claim 'exp' must be a number")
        iat = claims.get("iat")
        if iat is not None and (not isinstance(iat, (int, float)) or isinstance(iat, bool)):
            raise TokenError("claim 'iat' must be a number")
        issued = iat if iat is not None else time.time()
        if exp - issued > self.max_ttl + LEEWAY_SECONDS:
            raise TokenError(f"the token's lifetime is longer than the maximum of {self.max_ttl} s")
        if iat is not None and iat > time.time() + LEEWAY_SECONDS:
            raise TokenError("the token is issued in the future")

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub", "iss", "aud"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as err:
            raise TokenError(str(err)) from err
        self._check_lifetime(claims)
        roles = claims.get("roles", [])
        groups = claims.get("groups", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenError("claim 'roles' must be a list of strings")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise TokenError("claim 'groups' must be a list of strings")
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub or len(sub) > 200:
            raise TokenError("claim 'sub' must be a non-empty string of at most 200 characters")
        agency = claims.get("agency")
        if agency is not None and (not isinstance(agency, str) or not 0 < len(agency) <= 64):
            raise TokenError("claim 'agency' must be a string of at most 64 characters")
        known = frozenset(r for r in roles if r in ROLES)
        if AGENCY_ROLE in known and agency is None:
            raise TokenError(f"a token with role {AGENCY_ROLE} must carry the claim 'agency'")
        principal = Principal(sub=sub, roles=known, groups=frozenset(groups), agency=agency)
        return principal, float(claims["exp"]) + LEEWAY_SECONDS
