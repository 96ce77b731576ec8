"""Operators' commands on batches: create a migrate batch and drive it to the end in this process
(sharing the items with any running workers through their leases), and follow a batch's progress
— with a progress bar when stderr is a terminal."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from tqdm import tqdm

from ..auth.principal import Principal
from .runner import BatchRunner
from .schemas import BatchFilter, CreateBatch
from .service import BatchService

ENDED = ("completed", "cancelled")
OPERATOR = Principal(sub="cli", roles=frozenset({"admin"}))


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`old=new` pairs as a mapping; ValueError for anything else."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValueError(f"--map wants old=new, not {pair!r}")
        mapping[old.strip()] = new.strip()
    return mapping


def migrate_cases(
    batches: BatchService,
    key: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str],
    dry_run: bool,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Plan (dry run) or create the batch moving every running case of `key` on `from_version`."""
    body = CreateBatch(
        operation="migrate",
        filter=BatchFilter(process_key=key, version=from_version),
        params={"to_version": to_version, "mapping": dict(mapping)},
        dry_run=dry_run,
        request_id=request_id or f"cli:{uuid.uuid4()}",
    )
    answer = batches.create(OPERATOR, body)
    return dict(answer.body)


def follow(
    batches: BatchService,
    batch_id: uuid.UUID,
    step: Callable[[], int] | None = None,
    poll_seconds: float = 0.5,
    out: TextIO | None = None,
) -> dict[str, Any]:
    """Wait until the batch ends, running chunks with `step` when given; a progress bar on a
    terminal. Returns the final status."""
    out = out or sys.stderr
    view = batches.get(OPERATOR, batch_id)
    bar = tqdm(total=view["total"], unit="case", disable=not out.isatty(), file=out, desc=view["operation"])
    try:
        while True:
            bar.n = view["done"] + view["failed"]
            bar.set_postfix(failed=view["failed"], status=view["status"], refresh=False)
            bar.refresh()
            if view["status"] in ENDED or view["status"] == "paused":
                return view
            ran = step() if step is not None else 0
            if not ran:
                time.sleep(poll_seconds)
            view = batches.get(OPERATOR, batch_id)
    finally:
        bar.close()


def runner_step(runner: BatchRunner, owner: str) -> Callable[[], int]:
    return lambda: runner.run_once(owner)
