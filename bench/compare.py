"""`python -m bench --compare REF`: lines 1-5 on this checkout and on git ref REF, in one run.

REF's ``src/`` and ``migrations/`` are exported with ``git archive`` into a temporary directory
(the repository and its worktrees are left alone). Each side is one child `python -m bench --json`
run of THIS checkout's bench code with this venv's packages; REF's side has REF's ``src/`` first on
PYTHONPATH, and so have the `serve` and `worker` processes it starts (they inherit it), and its
databases are migrated with REF's migrations. The children alternate, `repeats` times each, so
both see the same load on a shared machine; the table gives the medians and the ratios this / REF.

A figure REF cannot produce (e.g. a diagram helper or bench hook it lacks; XINEDAI_BENCH_PROCESSES
picks a diagram both sides can run) is printed "n/a"; the child's log is kept in stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from .env import ROOT, median
from .results import Results

ONE_TASK = "1-task"
# (key, label) of the figures compared; keys as `_figures` flattens them
METRICS = [
    ("1.ours", "1  via the runtime (step process), cases/s"),
    ("1.in_process", "1  EngineInstance in process, cases/s"),
    ("1.stock", "1  stock SpiffWorkflow, same diagram, cases/s"),
    ("2", "2  overdue events over HTTP, cases/s"),
    ("3", "3  overdue:batch, cases/s"),
    ("4", "4  claim + complete over HTTP, tasks/s"),
    ("5.1", "5  due timers, 1 worker, timers/s"),
    ("5.2", "5  due timers, 2 workers, timers/s"),
    ("post8", "   POST /cases, 8 clients, cases/s"),
    ("post1", "   POST /cases, 1 client, cases/s"),
    ("cc1", "   claim + complete, 1 client, tasks/s"),
    ("sql.claim", "   SQL statements per claim"),
    ("sql.complete", "   SQL statements per complete"),
    ("sql.timer", "   SQL statements per timer fired"),
]
Figures = dict[str, float | None]


def export_src(ref: str, into: Path) -> str:
    """REF's ``src/`` and ``migrations/`` under `into`; the resolved commit."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src", "migrations"], capture_output=True, check=True
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit


def _figures(results: Results) -> dict[str, Figures]:
    """{column name: {metric key: value}}: line 1 in every column, the one-task figures in
    "<backend> 1-task" columns."""
    out: dict[str, Figures] = {}
    for name, column in results.columns.items():
        if column.skipped:
            continue
        line1 = {f"1.{k}": v for k, v in results.line1.items()}
        line1_one = {f"1.{k}": v for k, v in results.line1_one.items()}
        sql = {f"sql.{k}": v for k, v in column.sql.items() if not k.endswith("_one")}
        sql_one = {f"sql.{k.removesuffix('_one')}": v for k, v in column.sql.items() if k.endswith("_one")}
        out[name] = {**line1, **column.values, **sql}
        out[f"{name} {ONE_TASK}"] = {**line1_one, **column.one, **sql_one}
    return out


def _run(src: Path, args: list[str]) -> dict[str, Figures]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--json", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=3 * 3600,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"bench on {src} failed with {done.returncode} (its log is above)")
    return _figures(Results.from_json(done.stdout.strip().splitlines()[-1]))


def compare(ref: str, repeats: int, quick: bool, lines: str, backends: str, diagram: str = "auto") -> str:
    """The comparison table of `lines` (a comma-separated subset of 1-5) on `backends`."""
    args = ["--lines", lines, "--backends", backends, "--diagram", diagram, *(["--quick"] if quick else [])]
    with tempfile.TemporaryDirectory(prefix="xinedai-bench-ref-") as tmp:
        commit = export_src(ref, Path(tmp))
        here: dict[str, dict[str, list[float]]] = {}
        there: dict[str, dict[str, list[float]]] = {}
        for round_ in range(repeats):
            order = [(ROOT / "src", here), (Path(tmp) / "src", there)]
            for src, into in order if round_ % 2 == 0 else reversed(order):
                _progress(f"--compare round {round_ + 1}/{repeats}: {'this' if into is here else ref}")
                for column, figures in _run(src, args).items():
                    for key, value in figures.items():
                        if value is not None:
                            into.setdefault(column, {}).setdefault(key, []).append(value)
    return render(ref, commit, repeats, here, there)


def render(
    ref: str,
    commit: str,
    repeats: int,
    here: dict[str, dict[str, list[float]]],
    there: dict[str, dict[str, list[float]]],
) -> str:
    columns = list(dict.fromkeys([*here, *there]))
    # line 1 touches no database: shown once for the default process and once for the one-task diagram
    line1_columns = {columns[0], f"{columns[0]} {ONE_TASK}"} if columns else set()
    head = f"{'':<46}{'column':<18}{'this':>10}{commit[:10]:>12}{'ratio':>8}"
    out = [f"--compare {ref} ({commit}), {repeats} alternating runs each, medians", head, "-" * len(head)]
    for key, label in METRICS:
        for column in columns:
            if key.startswith("1.") and column not in line1_columns:
                continue
            a_values, b_values = here.get(column, {}).get(key), there.get(column, {}).get(key)
            if not a_values and not b_values:
                continue
            a = median(a_values) if a_values else None
            b = median(b_values) if b_values else None
            ratio = f"{a / b:.2f}×" if a and b else "n/a"
            shown = column.split()[0] if key.startswith("1.") and ONE_TASK not in column else column
            out.append(f"{label:<46}{shown:<18}{_num(a):>10}{_num(b):>12}{ratio:>8}")
    out.append("ratio: this ÷ REF (for SQL statements lower is better); n/a: not measured on that side")
    return "\n".join(out)


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
