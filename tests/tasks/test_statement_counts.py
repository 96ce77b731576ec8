"""The SQL budget of the inbox's hot calls, counted per call on SQLite and PostgreSQL: a claim
is 3 statements (the conditional UPDATE … RETURNING, the case row, the history entry), a
completion at most 7, and both answer exactly what a fresh read of the rows shows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from tests.conftest import TokenFactory
from xinedai_workflow.auth.principal import Principal
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import HumanTask

ALICE = Principal(sub="alice", roles=frozenset({"collector"}), groups=frozenset({"collectors"}))
CLAIM_BUDGET = 3
COMPLETE_BUDGET = 7


@contextmanager
def counted(services: Services) -> Iterator[list[str]]:
    """The statements sent while the block runs (transaction control such as SQLite's
    `BEGIN IMMEDIATE` is not a statement of the call)."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(services.db.engine, "before_cursor_execute", note)


def open_call_task(client: TestClient, auth: TokenFactory, services: Services) -> tuple[str, uuid.UUID]:
    body = {
        "process_key": "t_collect",
        "loan_id": f"L-{uuid.uuid4().hex[:8]}",
        "request_id": str(uuid.uuid4()),
        "variables": {"amount": "1200.00"},
    }
    response = client.post("/api/v1/cases", headers=auth("system"), json=body)
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    with services.db.read() as session:
        task_id = session.scalars(
            select(HumanTask.id).where(HumanTask.case_id == uuid.UUID(case_id), HumanTask.status == "open")
        ).one()
    return case_id, task_id


def test_claim_and_complete_stay_in_their_statement_budgets(
    client: TestClient, auth: TokenFactory, services: Services, deployed: dict[str, Any]
) -> None:
    case_id, task_id = open_call_task(client, auth, services)
    with counted(services) as claim_sql:
        claimed = services.tasks.claim(ALICE, task_id)
    assert len(claim_sql) <= CLAIM_BUDGET, claim_sql
    listed = services.tasks.list(
        ALICE, assigned="me", group=None, case_id=uuid.UUID(case_id), stage=None, limit=10, cursor=None
    )
    assert listed["items"] == [claimed]  # the claim's answer is what the row now holds
    assert claimed["assignee"] == "alice"

    with counted(services) as complete_sql:
        answer = services.tasks.complete(ALICE, task_id, {"outcome": "refused"})
    assert len(complete_sql) <= COMPLETE_BUDGET, complete_sql
    # built from the rows the step held: the same as a fresh read of the case
    assert answer == services.cases.get(ALICE, uuid.UUID(case_id))
    assert answer["waiting"], "t_collect waits for its follow-up timer after the call"

    history = client.get(f"/api/v1/cases/{case_id}/history", headers=auth("auditor"))
    assert history.status_code == 200, history.text
    actions = [e["action"] for e in history.json()["items"]]
    assert actions.index("task_claimed") < actions.index("task_completed")
    verified = client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("auditor"))
    assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text


def test_refused_claims_change_nothing_and_answer_as_before(
    client: TestClient, auth: TokenFactory, services: Services, deployed: dict[str, Any]
) -> None:
    _case_id, task_id = open_call_task(client, auth, services)
    first = services.tasks.claim(ALICE, task_id)
    assert services.tasks.claim(ALICE, task_id) == first  # one's own claim repeated
    bob = Principal(sub="bob", roles=frozenset({"collector"}), groups=frozenset({"collectors"}))
    response = client.post(
        f"/api/v1/tasks/{task_id}/claim", headers=auth("collector", groups=["collectors"], sub="bob")
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_claimed"
    outsider = auth("collector", groups=["legal"], sub="carol")
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=outsider).status_code == 404
    assert (
        services.tasks.list(bob, assigned="me", group=None, case_id=None, stage=None, limit=5, cursor=None)[
            "items"
        ]
        == []
    )
