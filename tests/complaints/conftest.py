"""Complaint tests drive the real overdue process (the scenario fixtures)."""

from tests.scenarios.conftest import flow, settings

__all__ = ["flow", "settings"]
