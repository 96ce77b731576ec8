"""Minting and verifying JWTs: HS256 with a shared secret by default, RS256 with a public key / JWKS."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWK

from ..settings import Settings
from .principal import ROLES, Principal


class TokenError(Exception):
    """The token is missing, malformed, expired, or not for us."""


def mint_token(
    settings: Settings,
    sub: str,
    roles: Sequence[str],
    groups: Sequence[str] = (),
    ttl_seconds: int | None = None,
) -> str:
    """A token signed with the configured HS256 secret (the embedded default)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}")
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": list(roles),
        "groups": list(groups),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl_seconds if ttl_seconds is not None else settings.jwt_default_ttl_seconds),
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


class TokenVerifier:
    """Verifies signature, expiry, issuer and audience, and reads the principal from the claims."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm.upper()
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self._keys: dict[str | None, Any] = {}
        if self.algorithm == "HS256":
            self._keys[None] = settings.jwt_secret
        elif self.algorithm == "RS256":
            if settings.jwt_public_key_file is None:
                raise ValueError("RS256 needs XINEDAI_JWT_PUBLIC_KEY_FILE (PEM public key or JWKS)")
            self._load_public_keys(settings.jwt_public_key_file)
        else:
            raise ValueError(f"unsupported JWT algorithm {settings.jwt_algorithm!r} (HS256 or RS256)")

    def _load_public_keys(self, path: Path) -> None:
        text = path.read_text()
        if text.lstrip().startswith("{"):
            for entry in json.loads(text).get("keys", []):
                self._keys[entry.get("kid")] = PyJWK(entry).key
        else:
            self._keys[None] = text

    def _key_for(self, token: str) -> Any:
        if None in self._keys and len(self._keys) == 1:
            return self._keys[None]
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self._keys:
            raise TokenError("unknown signing key")
        return self._keys[kid]

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub", "iss", "aud"]},
                leeway=30,
            )
        except jwt.PyJWTError as err:
            raise TokenError(str(err)) from err
        roles = claims.get("roles", [])
        groups = claims.get("groups", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenError("claim 'roles' must be a list of strings")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise TokenError("claim 'groups' must be a list of strings")
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise TokenError("claim 'sub' must be a non-empty string")
        return Principal(sub=sub, roles=frozenset(r for r in roles if r in ROLES), groups=frozenset(groups))
