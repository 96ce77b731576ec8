"""Signing in to the workbench with an HTTP client (no browser)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORDS

CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def web_sign_in(client: TestClient, user: str, password: str | None = None) -> str:
    """Sign `user` in; returns the session's CSRF token (from the desk or dashboard page)."""
    login = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": user,
            "password": password or PASSWORDS[user],
            "csrf": csrf_of(login.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200, home.text
    return csrf_of(home.text)
