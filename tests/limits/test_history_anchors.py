"""History chain heads anchored outside the database: a DBA's consistent rewrite is detected."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import Case, HistoryEntry
from xinedai_workflow.history.chain import entry_hash
from xinedai_workflow.history.service import verify as chain_verify

from ..conftest import TokenFactory, start_case
from ..tasks.helpers import restore_append_only_guard, without_append_only_guard


def _rewrite_tail_and_head(services: Services, case_id: str) -> None:
    """As the table owner: triggers off; the last entry's data edited, its hash recomputed and the
    case's head moved to it, so the chain is consistent again and verifies on its own."""
    with services.db.write() as session:
        without_append_only_guard(session.connection(), "history_entries")
        case = session.get(Case, uuid.UUID(case_id))
        assert case is not None
        row = session.scalars(
            select(HistoryEntry).where(HistoryEntry.case_id == case.id).order_by(HistoryEntry.seq.desc())
        ).first()
        assert row is not None
        row.data = {**row.data, "forged": True}
        row.hash = entry_hash(
            case_id=case_id,
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            element_id=row.element_id,
            data=row.data,
            definition_version=row.definition_version,
            prev_hash=row.prev_hash,
        )
        case.history_head = row.hash
        session.flush()
        restore_append_only_guard(session.connection(), "history_entries")


def test_a_rewritten_tail_and_head_is_caught_by_the_anchor(
    client: TestClient, auth: TokenFactory, services: Services, deployed: dict[str, Any]
) -> None:
    case_id = start_case(client, auth)
    verify = f"/api/v1/cases/{case_id}/history/verify"
    assert client.get(verify, headers=auth("auditor")).json()["valid"] is True

    name = services.anchors.export()
    anchor = services.settings.anchor_dir / name
    assert not os.access(anchor, os.W_OK) or os.geteuid() == 0  # written read-only, never replaced
    document = json.loads(anchor.read_bytes())
    assert case_id in document["body"]["heads"] and document["signature"]
    assert client.get(verify, headers=auth("auditor")).json()["valid"] is True

    _rewrite_tail_and_head(services, case_id)
    with services.db.read() as session:  # the chain alone no longer shows the edit
        case = session.get(Case, uuid.UUID(case_id))
        assert case is not None and chain_verify(session, case).valid
    result = client.get(verify, headers=auth("auditor")).json()
    assert result["valid"] is False, result
    assert "anchored outside the database" in result["reason"]


def test_an_anchor_not_signed_by_our_key_is_not_trusted(
    client: TestClient, auth: TokenFactory, services: Services, deployed: dict[str, Any]
) -> None:
    case_id = start_case(client, auth)
    name = services.anchors.export()
    forged = json.loads((services.settings.anchor_dir / name).read_bytes())
    forged["body"]["heads"][case_id] = [1, "0" * 64]
    services.anchors.sink.write("anchor-99999999T999999999999Z-0.json", json.dumps(forged).encode())
    result = client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("auditor")).json()
    assert result["valid"] is False and "not signed" in result["reason"]
