"""OIDC sign-in (authorization code + PKCE) against a local IdP over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.fake_idp import CLIENT_ID, CLIENT_SECRET, FakeIdp, running_idp
from xinedai_workflow.settings import Settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def idp() -> Iterator[FakeIdp]:
    with running_idp() as running:
        running.claims = {
            "sub": "u-1001",
            "name": "周静",
            "roles": ["collector", "emperor"],
            "groups": ["collectors"],
        }
        yield running


@pytest.fixture
def settings(settings: Settings, idp: FakeIdp) -> Settings:
    return settings.model_copy(
        update={"oidc_issuer": idp.issuer, "oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET}
    )


def _to_idp_and_back(client: TestClient, next_path: str = "/desk") -> httpx.Response:
    """Start at our /oidc/login, follow the IdP over HTTP, and arrive at our callback."""
    start = client.get(f"/oidc/login?next={next_path}", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["response_type"] == ["code"] and query["state"] and query["nonce"]
    at_idp = httpx.get(authorize, follow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    back = urlsplit(at_idp.headers["location"])
    assert back.path == "/oidc/callback"
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_sign_in_with_the_banks_idp(client: TestClient, idp: FakeIdp) -> None:
    assert "/oidc/login" in client.get("/login").text
    done = _to_idp_and_back(client)
    assert done.status_code == 303 and done.headers["location"] == "/desk"
    assert "HttpOnly" in done.headers["set-cookie"]
    request = idp.token_requests[-1]
    assert request["grant_type"] == "authorization_code" and len(request["code_verifier"]) >= 43
    desk = client.get("/desk")
    assert desk.status_code == 200 and "周静" in desk.text
    # roles the service does not know ("emperor") are dropped: a collector has no dashboard
    assert client.get("/dashboard").status_code == 403


def test_a_replayed_or_foreign_answer_is_refused(client: TestClient, idp: FakeIdp) -> None:
    start = client.get("/oidc/login", follow_redirects=False)
    at_idp = httpx.get(start.headers["location"], follow_redirects=False, timeout=10)
    back = urlsplit(at_idp.headers["location"])
    params = parse_qs(back.query)
    forged = client.get(
        f"/oidc/callback?code={params['code'][0]}&state=someone-elses", follow_redirects=False
    )
    assert forged.status_code == 401 and "state" in forged.text
    assert "xinedai_session" not in client.cookies
    # the code was not spent on the forged answer, but without the browser's cookie it is useless
    other = TestClient(client.app)
    stranger = other.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert stranger.status_code == 401 and "xinedai_session" not in other.cookies


def test_a_wrong_nonce_or_signature_is_refused(client: TestClient, idp: FakeIdp) -> None:
    idp.nonce_override = "another-nonce"
    assert _to_idp_and_back(client).status_code == 401
    idp.nonce_override = None
    idp.kid = "key-2"  # signed with a key the JWKS (re-read once) names differently → unknown kid
    original = idp.jwks

    def wrong_keys() -> dict[str, object]:
        keys = original()
        keys["keys"][0]["kid"] = "key-1"
        return keys

    idp.jwks = wrong_keys  # type: ignore[method-assign]
    refused = _to_idp_and_back(client)
    assert refused.status_code == 401 and "ID token" in refused.text
    assert "xinedai_session" not in client.cookies


def test_the_idp_refusing_the_code_is_a_clear_page(client: TestClient, idp: FakeIdp) -> None:
    start = client.get("/oidc/login", follow_redirects=False)
    at_idp = httpx.get(start.headers["location"], follow_redirects=False, timeout=10)
    back = urlsplit(at_idp.headers["location"])
    idp.issued.clear()  # the IdP forgot the code (expired)
    refused = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert refused.status_code == 401 and "refused the code" in refused.text
    error = client.get("/oidc/callback?error=access_denied", follow_redirects=False)
    assert error.status_code == 401 and "access_denied" in error.text
