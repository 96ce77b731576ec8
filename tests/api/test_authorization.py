"""Every route of the OpenAPI document is protected, and the contract's role table holds for each.

The routes are read from the app itself, so a new endpoint is tested the moment it exists: it
must refuse bad tokens (401), it must refuse a valid token without a suitable role (403), and it
must be listed in ROLE_TABLE below, or this test fails and names it.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, START, TEST_SECRET, TokenFactory
from xinedai_workflow.app import create_app
from xinedai_workflow.auth.principal import ROLES
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.settings import Settings

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/api/v1/agencies/public"),  # the partner-agency list is published (issue 20)
}
READ_CASES = {"system", "collector", "legal", "mediator", "supervisor", "compliance", "auditor"}
WORKERS = {"collector", "legal", "mediator", "supervisor"}
AGENCY_READERS = {"compliance", "auditor", "supervisor"}
# The contract's role table (../shared/docs/api.md), per route. `admin` may do everything.
ROLE_TABLE: dict[tuple[str, str], set[str]] = {
    ("GET", "/metrics"): {"system", "auditor"},
    ("POST", "/api/v1/definitions"): {"compliance"},
    ("GET", "/api/v1/definitions"): {"compliance", "auditor"},
    ("GET", "/api/v1/definitions/{key}/versions/{version}/files/{name}"): {"compliance", "auditor"},
    ("GET", "/api/v1/definitions/{key}/versions/{version}/diff"): {"compliance", "auditor"},
    ("GET", "/api/v1/incidents"): {"supervisor", "compliance", "auditor"},
    ("POST", "/api/v1/events/overdue"): {"system"},
    ("POST", "/api/v1/events/overdue:batch"): {"system"},
    ("POST", "/api/v1/events/payment"): {"system"},
    ("POST", "/api/v1/messages"): {"system"},
    ("POST", "/api/v1/cases"): {"system"},
    ("GET", "/api/v1/cases"): READ_CASES,
    ("GET", "/api/v1/cases/{case_id}"): READ_CASES,
    ("GET", "/api/v1/cases/{case_id}/history"): READ_CASES,
    ("GET", "/api/v1/cases/{case_id}/history/verify"): READ_CASES,
    ("POST", "/api/v1/cases/{case_id}/cancel"): {"supervisor"},
    ("POST", "/api/v1/cases/{case_id}/retry"): {"supervisor"},
    ("GET", "/api/v1/tasks"): WORKERS | {"auditor"},
    ("GET", "/api/v1/tasks/counts"): WORKERS | {"auditor"},
    ("GET", "/api/v1/tasks/{task_id}"): WORKERS | {"auditor"},
    ("POST", "/api/v1/tasks/{task_id}/claim"): WORKERS,
    ("POST", "/api/v1/tasks:next"): WORKERS,
    ("POST", "/api/v1/tasks/{task_id}/unclaim"): WORKERS,
    ("POST", "/api/v1/tasks/{task_id}/assign"): {"supervisor"},
    ("POST", "/api/v1/tasks/{task_id}/complete"): WORKERS,
    ("GET", "/api/v1/audit/personal-data-reads"): {"compliance", "auditor"},
    # reports and compliance (issue 5 and the lead): read-only views for their audiences
    ("GET", "/api/v1/reports/kpis"): {"supervisor", "compliance", "auditor"},
    ("GET", "/api/v1/reports/compliance"): {"compliance", "auditor"},
    ("GET", "/api/v1/compliance/policy"): {"compliance", "auditor"},
    ("GET", "/api/v1/cases/{case_id}/contact-check"): WORKERS,
    # migration and batches (issue 13): per operation the service refuses the other role (403)
    ("POST", "/api/v1/cases/{case_id}/migrate"): {"compliance"},
    ("POST", "/api/v1/batches"): {"compliance", "supervisor"},
    ("GET", "/api/v1/batches/{batch_id}"): {"compliance", "supervisor", "auditor"},
    ("POST", "/api/v1/batches/{batch_id}/pause"): {"compliance", "supervisor"},
    ("POST", "/api/v1/batches/{batch_id}/resume"): {"compliance", "supervisor"},
    ("POST", "/api/v1/batches/{batch_id}/cancel"): {"compliance", "supervisor"},
    # what-if simulations (issue 18): compliance asks and cancels, auditors may read
    ("POST", "/api/v1/simulations"): {"compliance"},
    ("GET", "/api/v1/simulations/{simulation_id}"): {"compliance", "auditor"},
    ("POST", "/api/v1/simulations/{simulation_id}/cancel"): {"compliance"},
    # agencies, complaints, credit bureau, contact facts (issue 20)
    ("POST", "/api/v1/cases/{case_id}/contact-facts"): {"system"} | WORKERS,
    ("GET", "/api/v1/cases/{case_id}/contact-facts"): {"system", "compliance", "auditor"} | WORKERS,
    ("POST", "/api/v1/agencies"): {"compliance"},
    ("GET", "/api/v1/agencies"): AGENCY_READERS,
    ("GET", "/api/v1/agencies/{agency_id}"): AGENCY_READERS,
    ("POST", "/api/v1/agencies/{agency_id}/placements"): {"supervisor"},
    ("GET", "/api/v1/agencies/{agency_id}/placements"): AGENCY_READERS,
    ("POST", "/api/v1/placements/{placement_id}/recall"): {"supervisor"},
    ("GET", "/api/v1/agencies/{agency_id}/statements/{day}"): AGENCY_READERS,
    ("GET", "/api/v1/agencies/{agency_id}/scorecard"): AGENCY_READERS,
    ("GET", "/api/v1/agency/cases"): {"agency_collector"},
    ("GET", "/api/v1/agency/cases/{case_id}"): {"agency_collector"},
    ("POST", "/api/v1/agency/cases/{case_id}/contacts"): {"agency_collector"},
    ("GET", "/api/v1/agency/cases/{case_id}/contact-check"): {"agency_collector"},
    ("POST", "/api/v1/events/complaint"): {"system"},
    ("GET", "/api/v1/complaints"): {"supervisor", "compliance", "auditor"},
    ("POST", "/api/v1/complaints/{complaint_id}/resolve"): {"supervisor"},
    ("GET", "/api/v1/bureau/reports"): {"compliance", "auditor"},
    ("GET", "/api/v1/bureau/reports/{report_id}"): {"compliance", "auditor"},
    ("POST", "/api/v1/bureau/reports/{report_id}/corrections"): {"compliance"},
    ("POST", "/api/v1/bureau/reports/{report_id}/default-ended"): {"system", "compliance"},
    ("GET", "/api/v1/bureau/exports/{day}"): {"compliance"},
    # the compliance studio (issue 17): compliance writes (the service allows the owner only to
    # edit, and a second user to approve), auditors read
    ("POST", "/api/v1/drafts"): {"compliance"},
    ("GET", "/api/v1/drafts"): {"compliance", "auditor"},
    ("GET", "/api/v1/drafts/{draft_id}"): {"compliance", "auditor"},
    ("GET", "/api/v1/drafts/{draft_id}/files/{name}"): {"compliance", "auditor"},
    ("PUT", "/api/v1/drafts/{draft_id}/files/{name}"): {"compliance"},
    ("DELETE", "/api/v1/drafts/{draft_id}/files/{name}"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/discard"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/proof"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/lint"): {"compliance"},
    ("GET", "/api/v1/drafts/{draft_id}/preview/instructions"): {"compliance", "auditor"},
    ("POST", "/api/v1/drafts/{draft_id}/simulate"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/submit"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/approve"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/reject"): {"compliance"},
    ("POST", "/api/v1/drafts/{draft_id}/deploy"): {"compliance"},
    ("GET", "/api/v1/definitions/{key}/audit"): {"compliance", "auditor"},
}
PATH_VALUES = {"key": "t_collect", "version": "1", "name": "t_collect.bpmn"}


def _openapi() -> dict[str, Any]:
    settings = Settings(database_url="sqlite:///:memory:", jwt_secret=TEST_SECRET, worker_enabled=False)
    document: dict[str, Any] = create_app(settings, run_worker=False).openapi()
    return document


OPENAPI = _openapi()
ROUTES = sorted(
    (method.upper(), path)
    for path, operations in OPENAPI["paths"].items()
    for method in operations
    if (method.upper(), path) not in PUBLIC
)


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


def _token(settings: Settings, secret: str | None = None, algorithm: str = "HS256", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "sub": "mallory",
        "roles": ["admin"],
        "groups": [],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(body, secret or settings.jwt_secret, algorithm=algorithm)


def _bad_credentials(settings: Settings) -> dict[str, dict[str, str]]:
    admin_token = _token(settings)
    unsigned = jwt.encode(
        jwt.decode(admin_token, options={"verify_signature": False}), None, algorithm="none"
    )
    bearer = {
        "wrong signature": _token(settings, secret="another-secret-" + "x" * 32),
        "expired": _token(settings, exp=int(time.time()) - 120),
        "wrong issuer": _token(settings, iss="someone-else"),
        "wrong audience": _token(settings, aud="another-service"),
        "no expiry": _token(settings, exp=None),
        "unsigned (alg none)": unsigned,
        "tampered roles": admin_token.split(".")[0] + ".e30." + admin_token.split(".")[2],
        "not a jwt": "not-a-token",
    }
    headers = {reason: {"Authorization": f"Bearer {token}"} for reason, token in bearer.items()}
    headers["no token"] = {}
    headers["basic scheme"] = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    headers["empty bearer"] = {"Authorization": "Bearer "}
    return headers


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def route_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One migrated database per backend for the whole route walk (the walk changes nothing)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("routes") / "routes.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
    return Settings(
        database_url=url,
        jwt_secret=TEST_SECRET,
        worker_enabled=False,
        outbox_sink_dir=tmp_path_factory.mktemp("outbox"),
        processes_dir=PROCESSES,
        database_pool_size=2,
    )


@pytest.fixture(scope="module")
def route_client(route_settings: Settings) -> Iterator[TestClient]:
    services = build_services(route_settings, ManualClock(START))
    with TestClient(create_app(services=services, run_worker=False)) as http:
        yield http
    services.db.dispose()


def _header(settings: Settings, role: str) -> dict[str, str]:
    agency = "AG-TEST" if role == "agency_collector" else None
    token = mint_token(settings, f"{role}-user", [role], ["collectors", "legal"], agency=agency)
    return {"Authorization": f"Bearer {token}"}


def test_every_route_is_in_the_role_table() -> None:
    missing = sorted(set(ROUTES) - set(ROLE_TABLE))
    assert not missing, f"routes without an entry in ROLE_TABLE (decide who may call them): {missing}"


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_refuses_bad_tokens_and_roles_it_does_not_allow(
    route_client: TestClient, route_settings: Settings, method: str, path: str
) -> None:
    client, settings = route_client, route_settings
    url = _url(path)
    for reason, headers in _bad_credentials(settings).items():
        # a broken body must not be looked at before the caller is known
        response = client.request(
            method, url, headers={**headers, "Content-Type": "application/json"}, content=b"{"
        )
        assert response.status_code == 401, (reason, response.status_code, response.text)
        assert response.json()["error"]["code"] in ("missing_token", "invalid_token"), reason
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    nobody = client.request(method, url, headers=_no_roles(settings))
    assert nobody.status_code == 403, nobody.text
    assert nobody.json()["error"]["code"] == "role_not_allowed"

    allowed = ROLE_TABLE.get((method, path), set())
    for role in ROLES:
        response = client.request(method, url, headers=_header(settings, role))
        if role == "admin" or role in allowed:
            assert response.status_code not in (401, 403), (role, response.status_code, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code, response.text)
            assert response.json()["error"]["code"] == "role_not_allowed"


def _no_roles(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(settings, roles=['sorcerer'], groups=['collectors'])}"}


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_openapi_declares_bearer_security_and_the_auth_errors(method: str, path: str) -> None:
    operation = OPENAPI["paths"][path][method.lower()]
    assert operation.get("security") == [{"HTTPBearer": []}], f"{method} {path} does not declare bearer auth"
    assert {"401", "403"} <= set(operation["responses"]), f"{method} {path} does not document 401/403"


def test_unknown_paths_are_not_revealed_to_anonymous_callers(client: TestClient, auth: TokenFactory) -> None:
    assert client.get("/api/v1/nothing-here").status_code == 401
    assert client.delete("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/nothing-here", headers=auth("auditor")).status_code == 404
    assert client.delete("/api/v1/cases", headers=auth("auditor")).status_code == 405
    for public in ("/health", "/openapi.json", "/docs"):
        assert client.get(public).status_code == 200, public


def test_a_little_clock_skew_is_tolerated(client: TestClient, settings: Settings) -> None:
    skewed = _token(settings, exp=int(time.time()) - 10)  # the IdP's clock is ahead of ours
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {skewed}"}).status_code == 200
    expired = _token(settings, exp=int(time.time()) - 120)
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
