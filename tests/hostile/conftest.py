"""The hostile-input tests share the fault tests' PostgreSQL-only database fixture."""

from tests.faults.conftest import pg_url

__all__ = ["pg_url"]
