"""The API docs work without internet: every asset the pages load is served by the service."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_reference_no_external_host_and_their_assets_load(
    client: TestClient, page: str
) -> None:
    response = client.get(page)  # no token: the docs are public, like /openapi.json
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE), html
    references = {a or b for a, b in _REFERENCE.findall(html)}
    assets = {r for r in references if r.startswith("/docs/assets/")}
    assert len(assets) >= 2, references  # the page's script (and style or icon)
    assert "/openapi.json" in html
    for reference in references:
        assert reference.startswith("/"), reference  # nothing outside this service
        loaded = client.get(reference)
        assert loaded.status_code == 200, reference
        assert len(loaded.content) > 500, reference
    for script in (r for r in assets if r.endswith(".js")):
        assert client.get(script).headers["content-type"].startswith("text/javascript")


def test_the_openapi_document_the_pages_load_is_public(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "xinedai-workflow"
    assert client.get("/docs/assets/unknown.js").status_code == 401  # only the known assets are public
