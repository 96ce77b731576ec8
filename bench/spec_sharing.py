"""What a case start costs on the version's cached spec, and what parsing fresh specs per case would
cost instead (the alternative to keeping execution from changing a shared spec, see
`engine/spiff_fixes.py`). In process (no step process), no database; medians of many starts.

    .venv/bin/python -m bench.spec_sharing [--starts 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.engine import ProcessDefinition, start_instance
from xinedai_workflow.engine.bundle import load_process_specs
from xinedai_workflow.engine.bundle_specs import fresh_definition
from xinedai_workflow.events.schemas import OverdueEvent
from xinedai_workflow.events.service import overdue_variables
from xinedai_workflow.settings import Settings

from .env import median, overdue_event

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def _median_ms(step: Callable[[], object], count: int) -> float:
    for _ in range(10):  # warm caches
        step()
    times = []
    for _ in range(count):
        began = time.perf_counter()
        step()
        times.append((time.perf_counter() - began) * 1000)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/unused.db"
        settings = Settings(database_url=url, jwt_secret="bench-" + "x" * 32, step_isolation=False)
        services = build_services(settings)
        ctx = services.runtime.ctx
        files = read_bundle_dir([PROCESSES])
        spec, subprocess_specs = load_process_specs("xinedai_overdue", files)
        cached = ProcessDefinition(0, "xinedai_overdue", 0, spec, subprocess_specs, files)
        variables = overdue_variables(OverdueEvent.model_validate(overdue_event()))
        now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
        shared = _median_ms(lambda: start_instance(cached, variables, now, ctx).dump(), args.starts)
        n = max(args.starts // 4, 20)
        fresh = _median_ms(lambda: start_instance(fresh_definition(cached), variables, now, ctx).dump(), n)
        parse = _median_ms(lambda: load_process_specs("xinedai_overdue", files), n)
        services.db.dispose()
    print(f"case start on the cached spec:        {shared:8.2f} ms (median of {args.starts})")
    print(f"case start on specs parsed per case:  {fresh:8.2f} ms")
    print(f"parsing the version's specs alone:    {parse:8.2f} ms")


if __name__ == "__main__":
    main()
