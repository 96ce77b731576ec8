"""Line 1 alone, printed as one JSON line (run by `bench.compare` against a checkout's ``src/``)."""

from __future__ import annotations

import argparse
import json
import shutil

from . import engine_lines
from .env import Bundle, make_workdir


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.line1")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = make_workdir()
    try:
        bundle = Bundle.choose(workdir)
        figures = engine_lines.engine_ceiling(bundle, workdir, seconds=args.seconds, runs=args.runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
