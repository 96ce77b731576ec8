"""The shipped bundle deployed as version 1, and helpers for the studio's HTTP calls."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, TokenFactory
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.settings import Settings

KEY = "xinedai_overdue"


@pytest.fixture
def shipped(client: TestClient, auth: TokenFactory) -> dict[str, Any]:
    """`processes/` deployed (version 1 of xinedai_overdue)."""
    files = read_bundle_dir([PROCESSES])
    parts = [("files", (n, c, "application/octet-stream")) for n, c in sorted(files.items())]
    response = client.post("/api/v1/definitions", headers=auth("compliance", sub="carol"), files=parts)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def new_draft(client: TestClient, headers: dict[str, str], title: str = "shorter waits") -> dict[str, Any]:
    response = client.post(
        "/api/v1/drafts", headers=headers, json={"key": KEY, "base_version": None, "title": title}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def edit(
    client: TestClient, headers: dict[str, str], draft_id: str, name: str, old: bytes, new: bytes
) -> dict[str, Any]:
    """Replace `old` by `new` (once) in a draft file and store it."""
    url = f"/api/v1/drafts/{draft_id}/files/{name}"
    current = client.get(url, headers=headers)
    assert current.status_code == 200, current.text
    assert old in current.content, old
    response = client.put(url, headers=headers, content=current.content.replace(old, new, 1))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Overdue events start the shipped process here."""
    return settings.model_copy(update={"default_process_key": KEY})
