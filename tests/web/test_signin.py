"""Sign-in, the session cookie, CSRF, the security headers and the `user add` command."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.web.helpers import csrf_of, web_sign_in
from xinedai_workflow.settings import Settings

# sign-in does not depend on the database backend: SQLite only
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_pages_need_a_sign_in_and_the_api_keeps_its_401(client: TestClient) -> None:
    response = client.get("/desk?stage=informal", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/desk%3Fstage%3Dinformal"
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    htmx = client.get("/desk/rows", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/nothing-here").status_code == 401  # not a workbench path: bearer rules


def test_local_sign_in_sets_a_strict_session_cookie(client: TestClient, settings: Settings) -> None:
    login = client.get("/login")
    assert login.status_code == 200 and "登录" in login.text
    bad = client.post(
        "/login", data={"username": "alice", "password": "wrong-password", "csrf": csrf_of(login.text)}
    )
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    unknown = client.post(
        "/login", data={"username": "nobody", "password": "x" * 12, "csrf": csrf_of(bad.text)}
    )
    assert unknown.status_code == 401
    ok = client.post(
        "/login",
        data={
            "username": "alice",
            "password": "alice-password-1",
            "csrf": csrf_of(unknown.text),
            "next": "/desk",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/desk"
    cookie = ok.headers["set-cookie"]
    assert "xinedai_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    token = client.cookies["xinedai_session"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (
        claims["sub"] == "alice" and claims["roles"] == ["collector"] and claims["groups"] == ["collectors"]
    )
    # a session token is not an API token
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/desk").status_code == 200


def test_the_cookie_is_secure_behind_tls(client: TestClient) -> None:
    login = client.get("https://testserver/login")
    assert "Secure" in login.headers["set-cookie"]
    ok = client.post(
        "https://testserver/login",
        data={"username": "alice", "password": "alice-password-1", "csrf": csrf_of(login.text)},
        follow_redirects=False,
    )
    assert "Secure" in ok.headers["set-cookie"] and "HttpOnly" in ok.headers["set-cookie"]
    assert ok.headers["strict-transport-security"].startswith("max-age=")


def test_open_redirects_are_refused(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        login = client.get("/login")
        ok = client.post(
            "/login",
            data={
                "username": "alice",
                "password": "alice-password-1",
                "csrf": csrf_of(login.text),
                "next": target,
            },
            follow_redirects=False,
        )
        assert ok.headers["location"] == "/", target
    assert (
        client.get("/lang/en?next=https://evil.example/", follow_redirects=False).headers["location"] == "/"
    )


def test_every_post_needs_the_sessions_csrf_token(client: TestClient) -> None:
    login = client.get("/login")
    refused = client.post(
        "/login", data={"username": "alice", "password": "alice-password-1", "csrf": "forged"}
    )
    assert refused.status_code == 403 and "xinedai_session" not in refused.headers.get("set-cookie", "")
    del login
    token = web_sign_in(client, "alice")
    assert client.post("/desk/next", data={}, follow_redirects=False).status_code == 403
    assert client.post("/desk/next", data={"csrf": "0" * 40}, follow_redirects=False).status_code == 403
    assert (
        client.post("/desk/next", headers={"X-CSRF-Token": "nope"}, follow_redirects=False).status_code == 403
    )
    nothing = client.post("/desk/next", data={"csrf": token}, follow_redirects=False)
    assert nothing.status_code == 303 and nothing.headers["location"] == "/desk?notice=no_task"
    by_header = client.post("/desk/next", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert by_header.status_code == 303
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and 'xinedai_session=""' in out.headers["set-cookie"]


def test_pages_send_a_strict_content_security_policy(client: TestClient) -> None:
    web_sign_in(client, "alice")
    for path in ("/login", "/desk", "/static/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src-attr")[0]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert client.get("/desk").headers["cache-control"] == "no-store"
    assert "content-security-policy" not in client.get("/health").headers
    html = client.get("/desk").text
    assert "<script>" not in html and " on" + "click=" not in html  # no inline script or handlers
    for src in ("/static/vendor/htmx.min.js", "/static/js/keys.js"):
        assert f'<script src="{src}" defer></script>' in html
        assert client.get(src).status_code == 200


def test_the_language_switch(client: TestClient) -> None:
    web_sign_in(client, "alice")
    assert "下一个任务" in client.get("/desk").text
    switched = client.get("/lang/en?next=/desk", follow_redirects=False)
    assert switched.headers["location"] == "/desk"
    page = client.get("/desk").text
    assert "Next task" in page and 'lang="en"' in page
    client.get("/lang/zh")
    assert "下一个任务" in client.get("/desk").text


def test_roles_decide_the_pages(client: TestClient) -> None:
    web_sign_in(client, "alice")
    assert client.get("/dashboard").status_code == 403  # a collector has no dashboard
    client.cookies.clear()
    web_sign_in(client, "sam")
    assert client.get("/dashboard").status_code == 200
