"""What a process version changed against the version before it (written once at deploy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType


class ProcessVersionDiff(Base):
    """The semantic diff of a version against the key's previous latest version (none for v1)."""

    __tablename__ = "process_version_diffs"

    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), primary_key=True)
    against_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONType)
