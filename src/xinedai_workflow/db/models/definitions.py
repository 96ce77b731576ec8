"""Deployed diagram versions and their files (content-addressed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..base import Base, JSONType, UTCDateTime


class StoredFile(Base):
    """A file's bytes, stored once per distinct content."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Deployment(Base):
    """One accepted upload of a bundle."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    main_key: Mapped[str] = mapped_column(String(200))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(200))
    warnings: Mapped[list[dict[str, object]]] = mapped_column(JSONType, default=list)


class ProcessVersion(Base):
    """Version N of a process key: the files it was deployed with. Never changes once written."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_versions_key_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(200))

    files: Mapped[list[ProcessVersionFile]] = relationship(
        back_populates="process_version", lazy="selectin", order_by="ProcessVersionFile.name"
    )


class ProcessVersionFile(Base):
    """Which named file (by content hash) belongs to a process version."""

    __tablename__ = "process_version_files"

    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))

    process_version: Mapped[ProcessVersion] = relationship(back_populates="files")
