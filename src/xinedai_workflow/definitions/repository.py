"""Queries on deployed process versions and their files."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import ProcessVersion, ProcessVersionFile, StoredFile, VersionApproval


def latest_version(session: Session, key: str) -> ProcessVersion | None:
    return session.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.key == key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    ).first()


def latest_version_id(session: Session, key: str) -> int | None:
    """The id of the key's newest version (one indexed lookup; no files loaded with it)."""
    return session.scalar(
        select(ProcessVersion.id)
        .where(ProcessVersion.key == key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )


def get_version(session: Session, key: str, version: int) -> ProcessVersion | None:
    return session.scalars(
        select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version)
    ).first()


def list_versions(session: Session, all_versions: bool) -> list[ProcessVersion]:
    query = select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version)
    if not all_versions:
        newest = (
            select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
            .group_by(ProcessVersion.key)
            .subquery()
        )
        query = query.join(
            newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.v)
        )
    return list(session.scalars(query))


def version_files(session: Session, process_version_id: int) -> dict[str, bytes]:
    rows = session.execute(
        select(ProcessVersionFile.name, StoredFile.content)
        .join(StoredFile, StoredFile.sha256 == ProcessVersionFile.sha256)
        .where(ProcessVersionFile.process_version_id == process_version_id)
    )
    return {name: bytes(content) for name, content in rows}


def store_file(session: Session, content: bytes) -> str:
    """Store content once; return its sha256."""
    digest = hashlib.sha256(content).hexdigest()
    if session.get(StoredFile, digest) is None:
        session.add(StoredFile(sha256=digest, size=len(content), content=content))
        session.flush()
    return digest


def approvers(session: Session, process_version_ids: list[int]) -> dict[int, str]:
    """Who approved each of these versions (only those deployed from an approved studio draft)."""
    if not process_version_ids:
        return {}
    rows = session.execute(
        select(VersionApproval.process_version_id, VersionApproval.approved_by).where(
            VersionApproval.process_version_id.in_(process_version_ids)
        )
    )
    return {int(k): str(v) for k, v in rows}


def stored_contents(session: Session, shas: Mapping[str, str]) -> dict[str, bytes]:
    """name → bytes for a name → sha256 map of stored files (a draft's, a simulation's snapshot)."""
    wanted = set(shas.values())
    if not wanted:
        return {}
    rows = session.execute(select(StoredFile.sha256, StoredFile.content).where(StoredFile.sha256.in_(wanted)))
    by_sha = {sha: bytes(content) for sha, content in rows}
    return {name: by_sha[sha] for name, sha in shas.items()}
