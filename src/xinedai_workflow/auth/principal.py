"""Who is calling, and what their roles allow."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("system", "collector", "legal", "mediator", "supervisor", "compliance", "auditor", "admin")
WORKER_ROLES = frozenset({"collector", "legal", "mediator", "supervisor"})
READ_ALL_ROLES = frozenset({"system", "compliance", "auditor", "admin"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: user id, roles and groups (lanes they work in)."""

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def reads_everything(self) -> bool:
        return bool(self.roles & READ_ALL_ROLES)

    @property
    def works_tasks(self) -> bool:
        return bool(self.roles & WORKER_ROLES) or self.is_admin

    @property
    def actor(self) -> str:
        """How the caller appears in history."""
        return self.sub
