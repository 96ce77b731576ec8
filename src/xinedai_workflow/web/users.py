"""Local sign-in users for the embedded default: a YAML file of users with their roles, groups
and an Argon2id password hash (memory-hard). `xinedai-workflow user add` writes it.

    users:
      alice: {name: 李丽, roles: [collector], groups: [collectors], password_hash: "$argon2id$..."}
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..auth.principal import ROLES

_hasher = PasswordHasher()  # Argon2id with the library's RFC 9106 low-memory profile
# verified when a user is unknown, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class LocalUser:
    username: str
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    password_hash: str


class UserFileError(ValueError):
    """The users file or a new user is not valid."""


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise UserFileError(f"{path}: expected a mapping `users:`")
    return users


def load_users(path: Path) -> dict[str, LocalUser]:
    """Every user of the file (an absent file: no local users)."""
    found = {}
    for username, entry in _read(path).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("password_hash"), str):
            raise UserFileError(f"{path}: user {username!r} has no password_hash")
        found[str(username)] = LocalUser(
            username=str(username),
            name=str(entry.get("name") or username),
            roles=tuple(str(r) for r in entry.get("roles") or ()),
            groups=tuple(str(g) for g in entry.get("groups") or ()),
            password_hash=entry["password_hash"],
        )
    return found


def authenticate(path: Path, username: str, password: str) -> LocalUser | None:
    """The user when the password matches its hash, else None (timing does not reveal which)."""
    user = load_users(path).get(username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def add_user(
    path: Path, username: str, password: str, roles: list[str], groups: list[str], name: str | None = None
) -> None:
    """Add or replace a user (the file is rewritten atomically, readable by its owner only)."""
    if not username or len(username) > 200 or any(c.isspace() for c in username):
        raise UserFileError("the user name must be 1-200 characters without spaces")
    if len(password) < 12:
        raise UserFileError("the password must have at least 12 characters")
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise UserFileError(f"give at least one known role ({', '.join(ROLES)}); unknown: {unknown}")
    users = _read(path)
    users[username] = {
        "name": name or username,
        "roles": list(roles),
        "groups": list(groups),
        "password_hash": _hasher.hash(password),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump({"users": users}, out, allow_unicode=True, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
