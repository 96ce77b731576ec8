"""Bench line: the what-if simulator at portfolio size (not a test).

    .venv/bin/python -m bench.simulation                       # 10,000 cases x 120 days, two variants
    .venv/bin/python -m bench.simulation --cases 500 --days 30 # a smaller size (and an extrapolation)

Runs the shipped bundle (baseline) against an edit of it (every wait between calls cut to one day)
with the shipped model, on scratch SQLite databases, in this process. Reports wall and CPU time,
simulated cases x days per second, engine steps per second (case starts, task completions, timer
firings, message deliveries) and their ratio to bench line 1's engine ceiling (start to the first
wait state + serialize, measured here on the same bundle). A size smaller than 10,000 x 120 also
prints an extrapolation to it, marked as such: linear in cases x days, which the hourly loop's
fixed cost per simulated hour makes pessimistic for small runs.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.simulation.model import load_model
from xinedai_workflow.simulation.simulator import Variant, simulate
from xinedai_workflow.simulation.summary import table

from .engine_lines import engine_ceiling
from .env import PROCESSES, Bundle

FULL = (10_000, 120)
TARGET_SECONDS = 600


def shorter_wait_edit(target: Path) -> Path:
    shutil.copytree(PROCESSES, target)
    dmn = target / "segmentation.dmn"
    dmn.write_text(
        dmn.read_text(encoding="utf-8").replace('"P3D"', '"P1D"').replace('"P2D"', '"P1D"'), encoding="utf-8"
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=FULL[0])
    parser.add_argument("--days", type=int, default=FULL[1])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xinedai-bench-sim-"))
    try:
        bundle = Bundle("xinedai_overdue", PROCESSES, "processes/xinedai_overdue.bpmn")
        ceiling, _plain = engine_ceiling(bundle, work, seconds=2.0, runs=3)
        candidate = shorter_wait_edit(work / "candidate")
        variants = [Variant.from_dir("baseline", PROCESSES), Variant.from_dir("candidate", candidate)]
        model = load_model(PROCESSES / "simulation" / "default_model.yaml")
        wall, cpu = time.perf_counter(), time.process_time()
        summary, _runs = simulate(
            variants, model, args.cases, args.days, args.seed, build_services, workdir=work
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        shutil.rmtree(work, ignore_errors=True)
    steps = sum(v["engine_steps"] for v in summary["variants"].values())
    case_days = args.cases * args.days * len(variants)
    print(table(summary))
    print()
    print(f"size: {args.cases:,} cases x {args.days} days x {len(variants)} variants (1 replication)")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s (this process)")
    print(f"simulated cases x days per second: {case_days / wall:,.0f} (wall), {case_days / cpu:,.0f} (CPU)")
    print(f"engine steps: {steps:,}; {steps / wall:,.1f} per second (wall)")
    print(f"line 1 engine ceiling here: {ceiling:,.1f} starts/s; ratio {steps / wall / ceiling:.1%}")
    if (args.cases, args.days) != FULL:
        factor = FULL[0] * FULL[1] / (args.cases * args.days)
        print(
            f"EXTRAPOLATED (not measured) to {FULL[0]:,} x {FULL[1]} x 2: "
            f"about {wall * factor / 60:,.0f} min wall, {cpu * factor / 60:,.0f} min CPU "
            f"(linear in cases x days; target {TARGET_SECONDS // 60} min)"
        )


if __name__ == "__main__":
    main()
