"""How a case's stored status, stage and outcome follow from an engine snapshot (pure rules).

The service (`cases/runtime.py`) and the process tests run at deploy both use these, so a test's
asserted stage and outcome are exactly what the case row would show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENDED = ("completed", "cancelled")
CLOSED_STAGE = "closed"


def next_stage(previous: str | None, snapshot_stage: str | None, status: str) -> str | None:
    """The mark of the innermost active marked element; kept while none is active; closed at the end."""
    if status in ENDED:
        return CLOSED_STAGE
    return snapshot_stage or previous


def case_outcome(status: str, variables: Mapping[str, Any], last_element: str | None) -> str | None:
    """`case_outcome` set by a script; else, once ended, `cancelled` or the last element's id."""
    explicit = variables.get("case_outcome")
    if isinstance(explicit, str) and explicit:
        return explicit[:64]
    if status not in ENDED:
        return None
    if status == "cancelled":
        return "cancelled"
    return (last_element or "completed")[:64]
