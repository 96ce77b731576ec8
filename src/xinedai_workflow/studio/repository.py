"""Queries on drafts, their files and the definitions' audit history."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import (
    DefinitionAuditEntry,
    Draft,
    DraftFile,
    ProcessVersionFile,
    StoredFile,
    VersionApproval,
)


def file_shas(session: Session, draft_id: str) -> dict[str, str]:
    """name → sha256 of the draft's files."""
    rows = session.execute(select(DraftFile.name, DraftFile.sha256).where(DraftFile.draft_id == draft_id))
    return {str(k): str(v) for k, v in rows}


def version_file_shas(session: Session, process_version_id: int) -> dict[str, str]:
    rows = session.execute(
        select(ProcessVersionFile.name, ProcessVersionFile.sha256).where(
            ProcessVersionFile.process_version_id == process_version_id
        )
    )
    return {str(k): str(v) for k, v in rows}


def set_file(session: Session, draft_id: str, name: str, sha256: str) -> None:
    row = session.get(DraftFile, (draft_id, name))
    if row is None:
        session.add(DraftFile(draft_id=draft_id, name=name, sha256=sha256))
    else:
        row.sha256 = sha256


def remove_file(session: Session, draft_id: str, name: str) -> bool:
    row = session.get(DraftFile, (draft_id, name))
    if row is None:
        return False
    session.delete(row)
    return True


def list_drafts(session: Session, status: str | None, owner: str | None, key: str | None) -> list[Draft]:
    query = select(Draft).order_by(Draft.updated_at.desc(), Draft.id)
    if status is not None:
        query = query.where(Draft.status == status)
    if owner is not None:
        query = query.where(Draft.owner == owner)
    if key is not None:
        query = query.where(Draft.key == key)
    return list(session.scalars(query))


def files_by_draft(session: Session, draft_ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {d: {} for d in draft_ids}
    if draft_ids:
        rows = session.execute(
            select(DraftFile.draft_id, DraftFile.name, DraftFile.sha256).where(
                DraftFile.draft_id.in_(draft_ids)
            )
        )
        for draft_id, name, sha in rows:
            found[draft_id][name] = sha
    return found


def sizes(session: Session, shas: set[str]) -> dict[str, int]:
    if not shas:
        return {}
    rows = session.execute(select(StoredFile.sha256, StoredFile.size).where(StoredFile.sha256.in_(shas)))
    return {str(k): int(v) for k, v in rows}


def record(
    session: Session,
    *,
    key: str,
    at: datetime,
    actor: str,
    action: str,
    draft_id: str | None = None,
    version: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry to the key's audit history."""
    session.add(
        DefinitionAuditEntry(
            key=key,
            at=at,
            actor=actor,
            action=action,
            draft_id=draft_id,
            version=version,
            detail=dict(detail or {}),
        )
    )


def audit(session: Session, key: str, draft_id: str | None, limit: int) -> list[DefinitionAuditEntry]:
    query = select(DefinitionAuditEntry).where(DefinitionAuditEntry.key == key)
    if draft_id is not None:
        query = query.where(DefinitionAuditEntry.draft_id == draft_id)
    return list(session.scalars(query.order_by(DefinitionAuditEntry.id).limit(limit)))


def files_digest(shas: Mapping[str, str]) -> str:
    """The digest of a file set from its files' sha256 (equal to `engine.content_sha256` of the
    bytes, so an approval can be compared with a deployment without loading the contents)."""
    outer = hashlib.sha256()
    for name in sorted(shas):
        outer.update(name.encode() + b"\0" + shas[name].encode() + b"\n")
    return outer.hexdigest()


def approve_version(session: Session, process_version_id: int, draft: Draft) -> None:
    """Store the draft's approval with the version deployed from it."""
    assert (
        draft.approved_by is not None and draft.approved_at is not None and draft.approved_sha256 is not None
    )
    session.add(
        VersionApproval(
            process_version_id=process_version_id,
            draft_id=draft.id,
            approved_by=draft.approved_by,
            approved_at=draft.approved_at,
            approved_sha256=draft.approved_sha256,
        )
    )
