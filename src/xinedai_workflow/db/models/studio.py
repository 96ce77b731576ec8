"""The compliance studio: drafts (bundles being edited, not yet versions), their files, the audit
history of each definition, and the four-eyes approval a deployed version was made from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType, UTCDateTime


class Draft(Base):
    """A per-user bundle copied from a deployed version and edited on the server."""

    __tablename__ = "studio_drafts"
    __table_args__ = (Index("ix_studio_drafts_status_updated", "status", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # editing | in_review | approved | deployed | discarded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewer_note: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_sha256: Mapped[str | None] = mapped_column(String(64))
    deployed_version: Mapped[int | None] = mapped_column(Integer)
    lock_version: Mapped[int] = mapped_column(Integer, default=0)

    # optimistic locking: an edit racing an approval loses and is retried against the new status
    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012


class DraftFile(Base):
    """One named file of a draft (content in `stored_files`, stored once per distinct content)."""

    __tablename__ = "studio_draft_files"

    draft_id: Mapped[str] = mapped_column(ForeignKey("studio_drafts.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))


class DefinitionAuditEntry(Base):
    """Who did what to a process key's definition in the studio (append-only)."""

    __tablename__ = "definition_audit"
    __table_args__ = (Index("ix_definition_audit_key_id", "key", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    draft_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class VersionApproval(Base):
    """The four-eyes approval a process version was deployed from (written once at deploy)."""

    __tablename__ = "process_version_approvals"

    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), primary_key=True)
    draft_id: Mapped[str] = mapped_column(String(36))
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_sha256: Mapped[str] = mapped_column(String(64))
