"""`python -m bench --compare REF`: line 1 on this checkout and on git ref REF, in one run.

REF's ``src/`` is exported with ``git archive`` into a temporary directory (the repository and
its worktrees are left alone) and put first on PYTHONPATH of a child process that runs THIS
checkout's line code (`bench.line1`) with this venv's packages; this checkout runs the same child
with its own ``src/``. The children alternate, `repeats` times each, so both see the same load on
a shared machine; the table gives the medians and the ratios this / REF.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from .env import ROOT, median

METRICS = [
    ("ours", "line 1 via the runtime (step process), cases/s"),
    ("in_process", "line 1 EngineInstance in process, cases/s"),
    ("stock", "line 1 stock SpiffWorkflow, same diagram, cases/s"),
]


def export_src(ref: str, into: Path) -> str:
    """REF's ``src/`` under `into`; the resolved commit."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit


def _line1(src: Path, seconds: float, runs: int) -> dict[str, float | None]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "bench.line1", "--seconds", str(seconds), "--runs", str(runs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"line 1 on {src} failed: {done.stderr.strip()[-500:]}")
    figures: dict[str, float | None] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def compare(ref: str, repeats: int, seconds: float, runs: int) -> str:
    """The comparison table (line 1; other lines need the ref's own `serve`, see the README)."""
    with tempfile.TemporaryDirectory(prefix="xinedai-bench-ref-") as tmp:
        commit = export_src(ref, Path(tmp))
        here: dict[str, list[float]] = {key: [] for key, _ in METRICS}
        there: dict[str, list[float]] = {key: [] for key, _ in METRICS}
        for round_ in range(repeats):
            order = [(ROOT / "src", here), (Path(tmp) / "src", there)]
            for src, into in order if round_ % 2 == 0 else reversed(order):
                for key, value in _line1(src, seconds, runs).items():
                    if value is not None and key in into:
                        into[key].append(value)
    head = f"{'':<52}{'this':>12}{commit[:10]:>14}{'ratio':>9}"
    out = [f"--compare {ref} ({commit}), {repeats} alternating runs each, medians", head, "-" * len(head)]
    for key, label in METRICS:
        a = median(here[key]) if here[key] else None
        b = median(there[key]) if there[key] else None
        ratio = f"{a / b:.2f}×" if a and b else "–"
        out.append(f"{label:<52}{_num(a):>12}{_num(b):>14}{ratio:>9}")
    a, s = here["in_process"], here["stock"]
    if a and s:
        out.append(f"this checkout, in process / stock SpiffWorkflow: {median(a) / median(s):.2f}×")
    out.append("runs: " + json.dumps({"this": here, commit[:10]: there}))
    return "\n".join(out)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"
