"""The diagram-edit tests use the scenario fixtures (the real process, a manual clock, a worker)."""

from tests.scenarios.conftest import flow, settings

__all__ = ["flow", "settings"]
