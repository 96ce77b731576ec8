"""The arguments of `xinedai-workflow simulate` (kept apart so building the parser stays light)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_MODEL = Path("processes/simulation/default_model.yaml")
HELP = """Run N synthetic cases for D simulated days through a bundle (and a second one) with the
real engine, sandbox, contact guard and worker, on a scratch database (never the live one).

Variants: with --against, "baseline" is the --against bundle (the version in force) and
"candidate" is BUNDLE_DIR (the edit under test); without --against, BUNDLE_DIR is "baseline".
Replication r uses seed S + r for every variant. Writes DIR/summary.json (byte-identical for the
same inputs) and the charts (funnel, outcomes, contacts, workload) as PNG and SVG."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "bundle_dir",
        nargs="?",
        default="processes",
        metavar="BUNDLE_DIR",
        help="the bundle to simulate (default processes/); the candidate with --against",
    )
    parser.add_argument("--against", metavar="BUNDLE_DIR", help="the baseline bundle (the version in force)")
    parser.add_argument("--model", metavar="FILE", help=f"behaviour model YAML (default {DEFAULT_MODEL})")
    parser.add_argument("--cases", type=int, metavar="N", help="synthetic cases per replication")
    parser.add_argument("--days", type=int, metavar="D", help="simulated days")
    parser.add_argument("--seed", type=int, metavar="S", help="random seed")
    parser.add_argument(
        "--replications", type=int, default=1, metavar="R", help="runs per variant (default 1)"
    )
    parser.add_argument(
        "--out", default="var/simulation", metavar="DIR", help="output folder (default var/simulation)"
    )
    parser.add_argument(
        "--calibrate-from-db",
        action="store_true",
        help="fit the model from the live database's closed cases and write DIR/model.yaml",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
