"""The cost of step isolation: bench lines 1-5 with supervised step processes on and off, in ONE run.

    .venv/bin/python -m bench.isolation                       # lines 1-5, SQLite + PostgreSQL, 3 rounds
    .venv/bin/python -m bench --isolation-compare --quick     # the same through `python -m bench`
    .venv/bin/python -m bench.isolation --lines 1,5 --backends sqlite --rounds 5

The machine is shared, so the two modes run interleaved: every round runs each line once with
isolation on and once off (the order flips from round to round), and the table shows the median
of the rounds per mode and their ratio (on ÷ off; 1.00 = free, 0.85 = the 15% budget). Lines 2-5
run real `serve` / `worker` processes with `XINEDAI_STEP_ISOLATION` set per mode; line 1 builds
the runtime's engine in this process with `step_isolation` on or off. Sizes are the quick ones of
`python -m bench` unless `--full`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.engine import start_instance
from xinedai_workflow.events.schemas import OverdueEvent
from xinedai_workflow.events.service import overdue_variables

from . import engine_lines, http_lines, timer_lines
from .env import PG_ADMIN_URL, Backend, Bundle, backend, make_workdir, median, overdue_event, pg_problem

MODES = {"on": "true", "off": "false"}
KEYS = {
    "1": "1  engine ceiling (start → first wait → serialize), cases/s",
    "2": "2  overdue events over HTTP, cases/s",
    "3": "3  overdue:batch, cases/s",
    "4": "4  claim + complete over HTTP, tasks/s",
    "5.1": "5  due timers, 1 worker, timers/s",
    "5.2": "5  due timers, 2 workers, timers/s",
}
Figures = dict[str, float]


def engine_line(db: Backend, isolated: bool, seconds: float) -> float:
    """Line 1 through the runtime's engine, with step isolation as asked (no database)."""
    services = build_services(db.settings(step_isolation=isolated))
    try:
        definition = engine_lines._definition(db.bundle)
        ctx = services.runtime.ctx
        variables = overdue_variables(OverdueEvent.model_validate(overdue_event()))
        now = datetime.now(UTC)
        return engine_lines.median_rate(
            lambda: start_instance(definition, variables, now, ctx).dump(), seconds, runs=3
        )
    finally:
        services.db.dispose()


def one_mode(db: Backend, mode: str, lines: set[int], quick: bool, serve_workers: int) -> Figures:
    """Every asked line once with isolation `mode` ("on" or "off")."""
    figures: Figures = {}
    isolated = replace(db, extra_env={**db.extra_env, "XINEDAI_STEP_ISOLATION": MODES[mode]})
    if 1 in lines and db.name == "SQLite":
        figures["1"] = engine_line(db, mode == "on", 1.0 if quick else 2.0)
    if 5 in lines:
        for workers in (1, 2):
            fired = timer_lines.fire_timers(isolated, 2000 if quick else 10_000, workers)
            figures[f"5.{workers}"] = fired["rate"]
    if lines & {2, 3, 4}:
        http = http_lines.http_lines(isolated, serve_workers, quick)
        figures.update({k.removeprefix("line"): v for k, v in http.items() if int(k[4:]) in lines})
    return figures


def compare(
    kind: str, bundle: Bundle, lines: set[int], quick: bool, rounds: int, serve_workers: int
) -> dict[str, dict[str, list[float]]]:
    """`rounds` interleaved rounds on one backend: {mode: {line key: [figure per round]}}."""
    results: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
    workdir = make_workdir()
    try:
        with backend(kind, bundle, workdir) as db:
            db.deploy_fixtures()
            for index in range(rounds):
                order = ("on", "off") if index % 2 == 0 else ("off", "on")
                for mode in order:
                    _progress(f"{db.name}: round {index + 1}/{rounds}, isolation {mode}")
                    try:
                        figures = one_mode(db, mode, lines, quick, serve_workers)
                    except Exception as err:  # reported, and the rounds so far are kept
                        _progress(f"{db.name}: round {index + 1} isolation {mode} failed: {err!r}")
                        continue
                    for key, value in figures.items():
                        results[mode].setdefault(key, []).append(value)
                # the table so far, in case a later round fails or the run is stopped
                print(render({db.name: results}, index + 1), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def render(by_backend: dict[str, dict[str, dict[str, list[float]]]], rounds: int) -> str:
    label_width = max(len(label) for label in KEYS.values())
    head = f"{'line':<{label_width}}  {'backend':<10}  {'off':>9}  {'on':>9}  {'on/off':>6}"
    head += "  per round (on/off)"
    out = [head, "-" * len(head)]
    for key, label in KEYS.items():
        for name, results in by_backend.items():
            off, on = results["off"].get(key), results["on"].get(key)
            if not off or not on:
                continue
            ratio = median(on) / median(off)
            rounds_text = " ".join(f"{a / b:.2f}" for a, b in zip(on, off, strict=False))
            out.append(
                f"{label:<{label_width}}  {name:<10}  {median(off):>9,.0f}  {median(on):>9,.0f}"
                f"  {ratio:>6.2f}  {rounds_text}"
            )
    out.append("")
    out.append(f"medians of {rounds} interleaved round(s); on/off ≥ 0.85 is within the 15% budget")
    return "\n".join(out)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.isolation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--lines", default="1,2,3,4,5", help="comma-separated line numbers (1-5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved on/off rounds")
    parser.add_argument("--full", action="store_true", help="the full sizes of `python -m bench`")
    parser.add_argument("--quick", action="store_true", help="quick sizes (the default)")
    parser.add_argument("--serve-workers", type=int, default=1, help="uvicorn workers for lines 2-4")
    args = parser.parse_args(argv)
    lines = {int(n) for n in args.lines.split(",") if n.strip()}
    # the bench process itself only seeds data: its own steps in-process (line 1 sets its own mode)
    os.environ["XINEDAI_STEP_ISOLATION"] = "false"
    workdir = make_workdir()
    by_backend: dict[str, dict[str, dict[str, list[float]]]] = {}
    try:
        bundle = Bundle.choose(workdir)
        for kind in (k.strip() for k in args.backends.split(",") if k.strip()):
            if kind == "postgres" and (problem := pg_problem()) is not None:
                print(f"PostgreSQL not run: no server at {PG_ADMIN_URL} ({problem})")
                continue
            # on PostgreSQL only line 5 unless asked otherwise with --backends postgres alone
            asked = lines if kind == "sqlite" or args.backends.strip() == "postgres" else lines & {5}
            name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
            by_backend[name] = compare(kind, bundle, asked, not args.full, args.rounds, args.serve_workers)
        print(f"diagram: {bundle.note}")
        print(render(by_backend, args.rounds))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
