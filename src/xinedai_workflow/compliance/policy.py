"""The contact policy in force: the newest deployed policy file, for every case.

The policy file (processes/contact_policy.yaml) is deployed with the diagrams and stored with
each process version as a shared asset, but law changes apply to running cases too: the policy
in force is the one of the NEWEST deployment that carried a policy file, whatever version a case
is pinned to. Each distinct content is a policy version (keyed by its sha256); its
`policy_id`/`policy_version` and sha256 are recorded with every contact decision.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db.models import Deployment, ProcessVersion, ProcessVersionFile, StoredFile
from ..domain.contact_model import ContactPolicy
from ..domain.policy_file import (
    POLICY_FILENAMES,
    PolicyBundle,
    PolicyFileError,
    RetentionSettings,
    load_policy,
    parse_policy,
)
from ..domain.template_lint import LintRules

log = logging.getLogger("xinedai_workflow.compliance")

BUILTIN_SHA256 = "builtin"


@dataclass(frozen=True)
class PolicyInForce:
    """A policy and where it came from: `deployed`, an undeployed `file`, or the `builtin` defaults."""

    bundle: PolicyBundle
    source: str
    file: str | None = None
    deployed_at: datetime | None = None
    deployed_by: str | None = None

    @property
    def contact(self) -> ContactPolicy:
        return self.bundle.contact

    @property
    def lint(self) -> LintRules:
        return self.bundle.lint

    @property
    def retention(self) -> RetentionSettings:
        return self.bundle.retention

    @property
    def sha256(self) -> str:
        return self.bundle.sha256

    def stamp(self) -> dict[str, str]:
        """What every decision records about the policy that made it."""
        return {
            "policy_id": self.contact.policy_id,
            "policy_version": self.contact.policy_version,
            "policy_sha256": self.sha256,
        }

    def describe(self) -> dict[str, Any]:
        """The API view: identity, origin and every number in force."""
        c = self.contact
        return {
            **self.stamp(),
            "source": self.source,
            "file": self.file,
            "deployed_at": self.deployed_at,
            "deployed_by": self.deployed_by,
            "contact": {
                "default_timezone": c.default_timezone,
                "quiet_hours": {
                    "start": c.quiet_start.strftime("%H:%M"),
                    "end": c.quiet_end.strftime("%H:%M"),
                    "exempt_channels": sorted(c.quiet_exempt_channels),
                },
                "max_connected_calls_per_day": c.max_connected_calls_per_day,
                "max_call_attempts_per_day": c.max_call_attempts_per_day,
                "max_contacts_per_day": c.max_contacts_per_day,
                "max_attempts_in_window": c.max_attempts_in_window,
                "attempts_window_days": c.attempts_window_days,
                "quiet_days_after_conversation": c.quiet_days_after_conversation,
                "pause_while_plan_kept": c.pause_while_plan_kept,
                "pause_while_dispute_open": c.pause_while_dispute_open,
                "defer_limit_hours": c.defer_limit_hours,
                "actions": {str(rule): str(action) for rule, action in c.actions.items()},
            },
            "retention": {
                "contact_records_days": self.retention.contact_records_days,
                "call_recordings_days": self.retention.call_recordings_days,
            },
            "template_rules": {
                "required_elements": [r.id for r in self.lint.required],
                "prohibited": [p.rule for p in self.lint.prohibited],
            },
        }


def builtin_policy() -> PolicyInForce:
    """The code's defaults (the same numbers as processes/contact_policy.yaml); no template rules."""
    return PolicyInForce(
        PolicyBundle(ContactPolicy(), LintRules(), RetentionSettings(), BUILTIN_SHA256), "builtin"
    )


def fallback_policy(processes_dir: Path | None) -> PolicyInForce:
    """What applies before any policy was deployed: the policy file next to the diagrams
    (what `serve` deploys at start), else the builtin defaults."""
    if processes_dir is not None:
        for name in POLICY_FILENAMES:
            path = processes_dir / name
            if not path.is_file():
                continue
            try:
                return PolicyInForce(load_policy(path), "file", file=str(path))
            except (OSError, PolicyFileError) as err:
                log.error("the policy file %s is not usable (%s); the builtin defaults apply", path, err)
    return builtin_policy()


def _is_policy_name(column: Any) -> Any:
    return or_(column.in_(POLICY_FILENAMES), *(column.like(f"%/{name}") for name in POLICY_FILENAMES))


class PolicyStore:
    """Finds the policy in force and the policy of any recorded sha256 (parsed once per content)."""

    def __init__(self, fallback: PolicyInForce) -> None:
        self.fallback = fallback
        self._parsed: dict[str, PolicyBundle] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _deployed() -> Any:
        return (
            select(
                ProcessVersionFile.name,
                ProcessVersionFile.sha256,
                Deployment.id,
                Deployment.deployed_at,
                Deployment.deployed_by,
            )
            .join(ProcessVersion, ProcessVersion.id == ProcessVersionFile.process_version_id)
            .join(Deployment, Deployment.id == ProcessVersion.deployment_id)
            .where(_is_policy_name(ProcessVersionFile.name))
        )

    def in_force(self, session: Session) -> PolicyInForce:
        """The newest deployed policy, else the fallback."""
        row = session.execute(self._deployed().order_by(Deployment.id.desc()).limit(1)).first()
        if row is None:
            return self.fallback
        bundle = self.by_sha256(session, row.sha256)
        if bundle is None:  # cannot happen for a validated deploy; never run without a policy
            log.error("the deployed policy %s cannot be parsed; the fallback applies", row.sha256)
            return self.fallback
        return PolicyInForce(bundle, "deployed", row.name, row.deployed_at, row.deployed_by)

    def by_sha256(self, session: Session, sha256: str) -> PolicyBundle | None:
        """The deployed policy with this content hash (None when unknown)."""
        if sha256 == self.fallback.sha256:
            return self.fallback.bundle
        with self._lock:
            cached = self._parsed.get(sha256)
        if cached is not None:
            return cached
        stored = session.get(StoredFile, sha256)
        if stored is None:
            return None
        bundle, _problems = parse_policy(bytes(stored.content))
        if bundle is None:
            return None
        with self._lock:
            self._parsed[sha256] = bundle
        return bundle

    def versions(self, session: Session) -> list[dict[str, Any]]:
        """Every deployed policy content, newest first, with when it was first and last deployed."""
        seen: dict[str, dict[str, Any]] = {}
        newest: dict[str, int] = {}
        for row in session.execute(self._deployed().order_by(Deployment.id)):
            bundle = self.by_sha256(session, row.sha256)
            entry = seen.setdefault(
                row.sha256,
                {
                    "policy_id": bundle.contact.policy_id if bundle else None,
                    "policy_version": bundle.contact.policy_version if bundle else None,
                    "policy_sha256": row.sha256,
                    "first_deployed_at": row.deployed_at,
                    "first_deployed_by": row.deployed_by,
                },
            )
            entry["last_deployed_at"] = row.deployed_at
            newest[row.sha256] = row.id
        ordered = [seen[sha] for sha in sorted(seen, key=newest.__getitem__, reverse=True)]
        for index, entry in enumerate(ordered):
            entry["in_force"] = index == 0
        return ordered
