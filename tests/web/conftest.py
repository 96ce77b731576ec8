"""Fixtures of the workbench tests: local sign-in users, the real process deployed, a real uvicorn
on a free loopback port, and Debian's chromium driven by Playwright.

The browser is `/usr/bin/chromium` (installed by `.ci/run` with apt-get); Playwright never
downloads a browser. Without it the browser tests skip with a message, except under CI=true,
where they are mandatory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.scenarios.conftest import Flow, deploy_processes
from tests.tasks.helpers import live_server
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.settings import Settings
from xinedai_workflow.web.users import add_user
from xinedai_workflow.worker.runner import Worker

CHROMIUM = os.environ.get("XINEDAI_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORDS = {
    "alice": "alice-password-1",
    "sam": "sam-password-12",
    "lena": "lena-password-1",
    "audrey": "audrey-password-1",
    "connie": "connie-password-1",
    "cora": "cora-password-12",
}


@pytest.fixture(scope="session")
def users_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test users, hashed once (Argon2id is slow on purpose)."""
    users = tmp_path_factory.mktemp("web-users") / "users.yaml"
    add_user(users, "alice", PASSWORDS["alice"], ["collector"], ["collectors"], "李丽")
    add_user(users, "sam", PASSWORDS["sam"], ["supervisor"], ["collectors", "supervisors"], "孙明")
    add_user(users, "lena", PASSWORDS["lena"], ["legal"], ["legal"], "Lena")
    add_user(users, "audrey", PASSWORDS["audrey"], ["auditor"], [], "Audrey")
    add_user(users, "connie", PASSWORDS["connie"], ["compliance"], [], "Connie")
    add_user(users, "cora", PASSWORDS["cora"], ["compliance"], [], "Cora")
    return users


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, users_template: Path) -> Settings:
    """Overdue events start the real process; local users live in a file of this test."""
    users = tmp_path / "users.yaml"
    shutil.copy(users_template, users)
    return settings.model_copy(update={"default_process_key": "xinedai_overdue", "web_users_file": users})


@pytest.fixture
def flow(
    client: TestClient, auth: TokenFactory, services: Services, worker: Worker, clock: ManualClock
) -> Flow:
    deploy_processes(services)
    return Flow(client, auth, services, worker, clock)


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with live_server(services) as url:
        yield url


def _chromium_missing() -> str | None:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _chromium_missing()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true needs the browser tests: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose console errors and CSP violations fail the test."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1360, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    problems: list[str] = []
    # a 422 page (a form with errors) is expected; any other console error is a problem
    tab.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "422" not in m.text else None
    )
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.problems = problems
    yield tab
    context.close()


def sign_in(page: Any, user: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(page: Any, name: str) -> None:
    """Save a screenshot under docs/screenshots/ (committed; look at them after a change)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
