"""What line 1 needs from the engine, also when it runs against an older checkout (`--compare`).

Before issue 19 the engine had neither `serializer.standard_dump` (its `dump_workflow` was the
standard path) nor `spiff_logging.stock_logging` (SpiffWorkflow's logging was untouched)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from xinedai_workflow.engine import serializer


@contextmanager
def _untouched() -> Iterator[None]:
    yield


stock_dump: Callable[[Any], str] = getattr(serializer, "standard_dump", serializer.dump_workflow)
try:
    from xinedai_workflow.engine.spiff_logging import stock_logging as _stock_logging
except ImportError:  # an engine that leaves SpiffWorkflow's logging alone
    _stock_logging = _untouched


def stock_logging() -> AbstractContextManager[None]:
    """SpiffWorkflow's own logging behaviour for the duration of a stock step."""
    return _stock_logging()
