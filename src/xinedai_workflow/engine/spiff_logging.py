"""SpiffWorkflow's logging, built only when someone reads it.

SpiffWorkflow logs every task state change at INFO (``spiff.task``) and builds the record's
extras (a dict of nine fields, and the task's data and internal data whenever the logger's own
``level`` is below 20 — which a logger left at NOTSET, 0, always is) *before* the logging call,
so the cost is paid even when the line is dropped. `configure_spiff_logging` sets the engine's
loggers to WARNING (DEBUG when asked for), and the state change below builds the extras only when
the logger is enabled for the line it is about to write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from SpiffWorkflow import task as _task_module
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

# The loggers SpiffWorkflow writes per task or per workflow change.
ENGINE_LOGGERS = ("spiff.task", "spiff.workflow", "spiff.data", "spiff.dmn")
_task_logger = _task_module.logger


def configure_spiff_logging(debug: bool) -> None:
    """SpiffWorkflow's per-task lines (with their data) at DEBUG when `debug`, else only warnings."""
    level = logging.DEBUG if debug else logging.WARNING
    for name in ENGINE_LOGGERS:
        logging.getLogger(name).setLevel(level)


def _set_state(self: Task, value: int) -> None:
    """`Task._set_state` of SpiffWorkflow 3.2, with the log extras built only for an enabled logger."""
    if value != self.state:
        elapsed = time.time() - self.last_state_change
        self.last_state_change = time.time()
        self._state = value
        if _task_logger.isEnabledFor(logging.INFO):
            _task_logger.info(
                f"State changed to {TaskState.get_name(value)}",
                extra=self.collect_log_extras({"elapsed": elapsed}),
            )
    elif _task_logger.isEnabledFor(logging.DEBUG):
        _task_logger.debug(f"State set to {TaskState.get_name(value)}", extra=self.collect_log_extras())


_stock_set_state = Task._set_state


@contextmanager
def stock_logging() -> Iterator[None]:
    """SpiffWorkflow's own state change and NOTSET loggers, for a side-by-side benchmark."""
    levels = {name: logging.getLogger(name).level for name in ENGINE_LOGGERS}
    Task._set_state = _stock_set_state
    for name in ENGINE_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    try:
        yield
    finally:
        Task._set_state = _set_state
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


Task._set_state = _set_state
configure_spiff_logging(debug=False)
