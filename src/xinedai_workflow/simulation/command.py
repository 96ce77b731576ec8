"""`xinedai-workflow simulate`: run the simulation, print the table, write summary.json + charts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .charts import write_charts
from .command_args import DEFAULT_MODEL
from .model import ModelInvalid, load_model
from .run import ServiceFactory
from .simulator import Variant, simulate
from .summary import summary_json, table


def _bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1):3d}% {label:<40}"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _error(message: str) -> int:
    print(f"xinedai-workflow simulate: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, build_services: ServiceFactory) -> int:
    out = Path(args.out)
    model_path = Path(args.model) if args.model else DEFAULT_MODEL
    try:
        model = load_model(model_path)
    except FileNotFoundError:
        return _error(f"model file {model_path} not found")
    except ModelInvalid as err:
        return _error(f"model file {model_path} is invalid: {err}")
    missing = [f"--{n}" for n in ("cases", "days", "seed") if getattr(args, n) is None]
    if missing:
        return _error(f"{', '.join(missing)} required")
    if args.cases < 1 or args.days < 1 or args.replications < 1:
        return _error("--cases, --days and --replications must be at least 1")
    try:
        variants = (
            [
                Variant.from_dir("baseline", Path(args.against)),
                Variant.from_dir("candidate", Path(args.bundle_dir)),
            ]
            if args.against
            else [Variant.from_dir("baseline", Path(args.bundle_dir))]
        )
    except FileNotFoundError as err:
        return _error(str(err))
    progress = _bar if sys.stderr.isatty() and not args.no_progress else None
    summary, _runs = simulate(
        variants, model, args.cases, args.days, args.seed, build_services, args.replications, progress
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(summary_json(summary), encoding="utf-8")
    write_charts(summary, out)
    print(table(summary))
    print(f"\nwritten: {out / 'summary.json'} and charts (funnel, outcomes, contacts, workload) .png/.svg")
    return 0
