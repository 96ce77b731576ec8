"""Who is calling, and what their roles allow."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = (
    "system",
    "collector",
    "legal",
    "mediator",
    "supervisor",
    "compliance",
    "auditor",
    "admin",
    "agency_collector",
)
# A collector employed by an outside agency: the token's `agency` claim names it, and they see
# only the cases placed with that agency (agencies/).
AGENCY_ROLE = "agency_collector"
WORKER_ROLES = frozenset({"collector", "legal", "mediator", "supervisor"})
READ_ALL_ROLES = frozenset({"system", "compliance", "auditor", "admin"})
# may see every task (not only those of their lanes)
ALL_TASKS_ROLES = frozenset({"auditor", "admin"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: user id, roles and groups (lanes they work in)."""

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    agency: str | None = None  # the `agency` claim of an agency collector's token

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def reads_everything(self) -> bool:
        """Sees every case (system, compliance, auditor, admin)."""
        return bool(self.roles & READ_ALL_ROLES)

    @property
    def sees_all_tasks(self) -> bool:
        return bool(self.roles & ALL_TASKS_ROLES)

    @property
    def works_tasks(self) -> bool:
        """Has a role that works tasks of its lanes (collector, legal, mediator, supervisor)."""
        return bool(self.roles & WORKER_ROLES)

    @property
    def lanes(self) -> frozenset[str]:
        """The lanes whose tasks (and cases) the caller works; empty without a worker role."""
        return self.groups if self.works_tasks else frozenset()

    def works_lane(self, lane: str) -> bool:
        return lane in self.lanes

    @property
    def supervises(self) -> bool:
        return self.is_admin or "supervisor" in self.roles

    @property
    def actor(self) -> str:
        """How the caller appears in history."""
        return self.sub
