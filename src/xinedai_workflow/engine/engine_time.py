"""The engine's notion of "now", taken from the injected clock instead of the wall clock.

SpiffWorkflow's timer definitions call ``datetime.now(timezone.utc)`` on the module-level name
``datetime`` of ``SpiffWorkflow.bpmn.specs.event_definitions.timer``. We rebind that one name to a
subclass whose ``now()`` answers the time set for the current engine step (a context variable), so
timers compute due times and fire against the injected clock. Outside an engine step it answers the
wall clock, exactly like the original.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_engine_now: ContextVar[datetime | None] = ContextVar("xinedai_engine_now", default=None)


def engine_now() -> datetime:
    """The time of the current engine step (aware, UTC), or the wall clock outside one."""
    current = _engine_now.get()
    return current if current is not None else datetime.now(UTC)


@contextmanager
def engine_time(moment: datetime) -> Iterator[None]:
    """Run an engine step at `moment` (an aware datetime)."""
    if moment.tzinfo is None:
        raise ValueError("engine time must be timezone-aware")
    token = _engine_now.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _engine_now.reset(token)


class _EngineDatetime(datetime):
    """`datetime` whose ``now()`` follows the engine step's time; returns plain datetimes."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = engine_now()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


def today() -> date:
    """Today's date in UTC at the engine step's time (a script helper)."""
    return engine_now().date()


_spiff_timer.datetime = _EngineDatetime
