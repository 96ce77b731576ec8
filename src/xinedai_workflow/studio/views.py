"""The studio's answers built from rows: a draft with its files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..db.models import DefinitionAuditEntry, Draft


def draft_view(
    draft: Draft, shas: Mapping[str, str], base: Mapping[str, str], sizes: Mapping[str, int]
) -> dict[str, Any]:
    """A draft: its files (changed against the base version) and where it is in review."""
    return {
        "draft_id": draft.id,
        "key": draft.key,
        "base_version": draft.base_version,
        "owner": draft.owner,
        "title": draft.title,
        "status": draft.status,
        "files": [
            {"name": name, "sha256": sha, "size": sizes.get(sha, 0), "changed": base.get(name) != sha}
            for name, sha in sorted(shas.items())
        ],
        "removed_files": sorted(set(base) - set(shas)),
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
        "submitted_at": draft.submitted_at,
        "reviewer_note": draft.reviewer_note,
        "approved_by": draft.approved_by,
        "approved_at": draft.approved_at,
        "approved_sha256": draft.approved_sha256,
        "deployed_version": draft.deployed_version,
    }


def audit_view(entry: DefinitionAuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "draft_id": entry.draft_id,
        "version": entry.version,
        "detail": entry.detail,
    }
