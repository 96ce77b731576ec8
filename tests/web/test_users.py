"""The local users file (Argon2id hashes) and the `xinedai-workflow user add` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xinedai_workflow.web.users import UserFileError, add_user, authenticate, load_users


def test_users_file_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    add_user(path, "bob", "a-long-password", ["legal"], ["legal"])
    text = path.read_text()
    assert "$argon2id$" in text and "a-long-password" not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert authenticate(path, "bob", "a-long-password") is not None
    assert authenticate(path, "bob", "a-long-passwor") is None
    assert load_users(path)["bob"].roles == ("legal",)
    with pytest.raises(UserFileError):
        add_user(path, "carl", "short", ["legal"], [])
    with pytest.raises(UserFileError):
        add_user(path, "carl", "a-long-password", ["emperor"], [])


def test_user_add_command(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    env = {**os.environ, "XINEDAI_WEB_USERS_FILE": str(path)}
    cmd = [sys.executable, "-m", "xinedai_workflow.cli", "user", "add", "dora", "--role", "mediator"]
    done = subprocess.run(
        [*cmd, "--group", "mediation", "--name", "多拉", "--password-stdin"],
        input="dora-password-1\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    user = load_users(path)["dora"]
    assert user.name == "多拉" and user.groups == ("mediation",)
    assert authenticate(path, "dora", "dora-password-1") is not None
    short = subprocess.run(
        [*cmd, "--password-stdin"], input="short\n", capture_output=True, text=True, env=env, check=False
    )
    assert short.returncode == 2 and "12 characters" in short.stderr
