"""`python -m bench`: the eight benchmark lines on SQLite and PostgreSQL, printed as one table.

    .venv/bin/python -m bench                  # everything (about 10-15 minutes on 2 cores)
    .venv/bin/python -m bench --quick          # small sizes, one run each (a smoke test)
    .venv/bin/python -m bench --backends sqlite --lines 1,3,7
    .venv/bin/python -m bench --compare main   # lines 1-5 here and on git ref `main`, alternating
    .venv/bin/python -m bench --isolation-compare    # lines 1-5, step isolation on vs off (isolation.py)

PostgreSQL is the server at XINEDAI_BENCH_PG_ADMIN (default postgresql://postgres@127.0.0.1:5432/
postgres); the benchmark creates and drops its own databases there. Without a server the
PostgreSQL column says why. Line 1 does not touch a database and is the same in both columns.
Lines 1-4 have a second column per backend, "1-task": the same line with the one-task diagram
(bench/diagrams/b_one.bpmn, start → user task) as the default process. Below the table: the
one-task diagram's figures as ratios to the in-process engine, the request path against a bare
FastAPI app, SQL statements per call, and every issue-19 target with its figure.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from . import compare, engine_lines, http_lines, inbox, isolation, statement_counts, targets, timer_lines
from .env import PG_ADMIN_URL, Backend, Bundle, backend, make_workdir, pg_problem
from .results import Column, Results

T = TypeVar("T")

BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def _attempt(column: Column, what: str, measure: Callable[[], T], empty: T) -> T:
    """`measure()`, or `empty` with a note when it fails (e.g. on an older ref without its helpers)."""
    try:
        return measure()
    except Exception as err:
        logging.exception("%s failed", what)
        column.notes[what] = f"failed: {type(err).__name__}: {str(err)[:200]}"
        return empty


@dataclass(frozen=True)
class Line:
    number: int
    label: str
    target: str


LINES = [
    Line(1, "engine ceiling: start → first wait → serialize, cases/s (1 core)", "reference"),
    Line(2, "overdue events over HTTP, one per request, cases/s", "≥ 300"),
    Line(3, "overdue:batch with 10,000 events, cases/s (% of line 1)", "≥ 50%"),
    Line(4, "claim + complete over HTTP, tasks/s", "≥ 200"),
    Line(5, "10,000 due timers, 1 worker / 2 workers, timers/s", "≥ 1,000"),
    Line(6, "inbox with 100,000 open tasks, p50 / p95 ms (service; HTTP p95)", "p95 ≤ 50"),
    Line(7, "load + save of a long-lived case (60 instalments, 20 calls), ms", "≤ 20"),
    Line(8, "peak RSS of a worker process, MB", "≤ 300"),
]


def run_backend(
    kind: str, bundle: Bundle, one_task: Bundle, lines: set[int], quick: bool, serve_workers: int
) -> Column:
    column = Column()
    workdir = make_workdir()
    try:
        with backend(kind, bundle, workdir) as db:
            db.deploy_fixtures()
            if 7 in lines:
                _progress(f"{db.name}: line 7 (long-lived case)")
                long = engine_lines.long_case(db, runs=15 if quick else 40)
                column.values["7"] = long["ms"]
                column.notes["7"] = f"state {long['state_kb']:.0f} KB"
            if lines & {5, 8}:  # before the HTTP lines: their cases' timers would be due too
                count = 2000 if quick else 10_000
                peaks = []
                for workers in (1, 2):
                    _progress(f"{db.name}: line 5 ({count:,} due timers, {workers} worker(s))")
                    fired = timer_lines.fire_timers(db, count, workers)
                    column.values[f"5.{workers}"] = fired["rate"]
                    peaks.append(fired["peak_rss_mb"])
                column.values["8"] = max(peaks)
            if lines & {2, 3, 4}:
                _progress(f"{db.name}: lines 2-4 over HTTP (serve --workers {serve_workers})")
                figures = http_lines.http_lines(db, serve_workers, quick)
                column.values.update({k.removeprefix("line"): v for k, v in figures.items()})
                column.notes["2"] = f"serve --workers {serve_workers}, 16 connections"
                _progress(f"{db.name}: lines 2-4, one-task diagram")
                one_db = replace(db, bundle=one_task)
                column.one = _attempt(
                    column, "1-task", lambda: http_lines.one_task_lines(one_db, serve_workers, quick), {}
                )
                _progress(f"{db.name}: request path, service and bare FastAPI app")
                column.path = _attempt(column, "path", lambda: http_lines.request_path_line(db, quick), {})
            if lines & {2, 3, 4, 5}:  # after line 5: the counted starts' timers must not be due in it
                _progress(f"{db.name}: SQL statements per call (in process)")
                calls = 5 if quick else 20
                column.sql = _attempt(
                    column, "sql", lambda: statement_counts.measure(db, one_task, calls), {}
                )
            if 6 in lines:
                _progress(f"{db.name}: line 6 (inbox, seeding {'20,000' if quick else '100,000'} open tasks)")
                figures = inbox_line(db, 20_000 if quick else 100_000, 50 if quick else 300)
                column.values.update(figures)
    except Exception as err:  # a line that fails is reported in the table, not hidden
        logging.exception("%s failed", kind)
        column.skipped = f"failed: {type(err).__name__}: {str(err)[:200]}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return column


def inbox_line(db: Backend, tasks: int, iterations: int) -> dict[str, float]:
    """Line 6 with issue 4's inbox benchmark (bench/inbox.py) on its own database."""
    from xinedai_workflow.bootstrap import build_services
    from xinedai_workflow.clock import ManualClock

    if db.name == "SQLite":
        url = f"sqlite:///{db.workdir / 'inbox.db'}"
    else:
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url += "/xinedai_bench_inbox"
    inbox.recreate_database(url)
    services = build_services(db.settings(database_url=url), ManualClock(inbox.NOW))
    try:
        inbox.seed(services, tasks, 20)
        results = {r.name: r for r in inbox.measure(services, 20, iterations)}
    finally:
        services.db.dispose()
    first = next(iter(results.values()))
    over_http = next((r for name, r in results.items() if "HTTP" in name), first)
    return {"6.p50": first.pct(50), "6.p95": first.pct(95), "6.http95": over_http.pct(95)}


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _cell_one(line: Line, column: Column, ceiling: float | None) -> str:
    """A cell of the one-task column (lines 1-4 only)."""
    if line.number > 4:
        return ""
    if column.skipped:
        return "–"
    if line.number == 1:
        return _fmt(ceiling)
    value = column.one.get(str(line.number))
    if line.number == 3 and value is not None and ceiling:
        return f"{_fmt(value)} ({value / ceiling:.0%})"
    return _fmt(value)


def _cell(line: Line, column: Column, ceiling: float | None) -> str:
    v = column.values
    if column.skipped:
        return column.skipped if line.number == 1 else "–"
    if line.number == 1:
        return _fmt(ceiling)
    if line.number == 3 and "3" in v:
        share = f" ({v['3'] / ceiling:.0%})" if ceiling else ""
        return _fmt(v["3"]) + share
    if line.number == 5:
        return f"{_fmt(v.get('5.1'))} / {_fmt(v.get('5.2'))}" if "5.1" in v else "–"
    if line.number == 6:
        if "6.p50" not in v:
            return "–"
        return f"{v['6.p50']:.1f} / {v['6.p95']:.1f}; {v['6.http95']:.1f}"
    if line.number == 7:
        return _fmt(v.get("7"), 1) + (f" ({column.notes['7']})" if "7" in column.notes else "")
    return _fmt(v.get(str(line.number)))


def _met(line: Line, column: Column, ceiling: float | None) -> bool | None:
    v = column.values
    checks = {
        2: lambda: v["2"] >= 300,
        3: lambda: v["3"] >= 0.5 * ceiling if ceiling else None,
        4: lambda: v["4"] >= 200,
        5: lambda: min(v["5.1"], v["5.2"]) >= 1000,
        6: lambda: v["6.p95"] <= 50,
        7: lambda: v["7"] <= 20,
        8: lambda: v["8"] <= 300,
    }
    try:
        return checks[line.number]() if line.number in checks else None
    except KeyError:
        return None


def render(results: Results) -> str:
    columns, ceiling = results.columns, results.line1.get("ours")
    ceiling_one = results.line1_one.get("ours")
    cells: dict[str, list[str]] = {}
    for n, column in columns.items():
        cells[n] = [_cell(line, column, ceiling) for line in LINES]
        cells[f"{n} 1-task"] = [_cell_one(line, column, ceiling_one) for line in LINES]
    width = {n: max(len(n), *(len(c) + 2 for c in cells[n])) for n in cells}
    label_width = max(len(f"{line.number}  {line.label}") for line in LINES)
    head = f"{'line':<{label_width}}  {'target':<10}" + "".join(f"  {n:>{width[n]}}" for n in cells)
    out = [head, "-" * len(head)]
    for index, line in enumerate(LINES):
        row = f"{f'{line.number}  {line.label}':<{label_width}}  {line.target:<10}"
        for n in cells:
            met = _met(line, columns[n], ceiling) if n in columns else None
            mark = {True: " ✓", False: " ✗", None: "  "}[met]
            row += f"  {cells[n][index] + mark:>{width[n]}}"
        out.append(row)
    out.append("")
    out.append(f"diagram: {results.note}; line 1 is the runtime's engine (sandboxed, in a step process),")
    in_process, stock = results.line1.get("in_process"), results.line1.get("stock")
    ratio = f" ({in_process / stock:.2f}× stock)" if in_process and stock else ""
    out.append(
        f"on one core. EngineInstance in process: {_fmt(in_process)}/s{ratio}; stock SpiffWorkflow"
        f" (its engine, logging and converters, spec-free json): {_fmt(stock)}/s"
    )
    out.append(
        "1-task: the same line with bench/diagrams/b_one.bpmn (start → user task) as the default process"
    )
    for n, column in columns.items():
        for key, note in column.notes.items():
            if key != "7":
                out.append(f"{n}, line {key}: {note}" if key[0].isdigit() else f"{n}, {key}: {note}")
        if column.skipped:
            out.append(f"{n}: {column.skipped}")
    for section in (
        targets.one_task_table(results),
        targets.request_path_table(results),
        statement_counts.render({n: c.sql for n, c in columns.items() if c.sql}),
        targets.target_table(results),
    ):
        if section:
            out += ["", section]
    out.append("")
    out.append(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--isolation-compare" in argv:
        return isolation.main([a for a in argv if a != "--isolation-compare"])
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--lines", default="1,2,3,4,5,6,7,8", help="comma-separated line numbers")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument(
        "--diagram",
        choices=("auto", "xinedai_overdue", "t_collect"),
        default="auto",
        help="the default process: processes/xinedai_overdue.bpmn when deployable (auto), or t_collect",
    )
    parser.add_argument("--serve-workers-sqlite", type=int, default=1, help="uvicorn workers on SQLite")
    parser.add_argument("--serve-workers-postgres", type=int, default=2, help="uvicorn workers on PostgreSQL")
    parser.add_argument(
        "--compare", metavar="REF", help="the asked lines (1-5 of them) here and on git ref REF, alternating"
    )
    parser.add_argument("--repeats", type=int, default=3, help="--compare: alternating runs per side")
    parser.add_argument(
        "--json", action="store_true", help="print the figures as one JSON line (for --compare)"
    )
    args = parser.parse_args(argv)
    if args.compare:
        asked = [n for n in args.lines.split(",") if n.strip() in {"1", "2", "3", "4", "5"}]
        print(
            compare.compare(
                args.compare, args.repeats, args.quick, ",".join(asked), args.backends, args.diagram
            )
        )
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    lines = {int(n) for n in args.lines.split(",") if n.strip()}
    kinds = [k.strip() for k in args.backends.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}")

    workdir = make_workdir()
    try:
        bundle = Bundle.choose(workdir, args.diagram)
        one_task = Bundle.one_task(workdir)
        results = Results({}, note=bundle.note)
        seconds = 1.0 if args.quick else 2.0
        if 1 in lines:
            _progress("line 1 (engine ceiling, in-process), default process and one-task diagram")
            results.line1 = engine_lines.engine_ceiling(bundle, workdir, seconds=seconds)
            try:
                results.line1_one = engine_lines.engine_ceiling(one_task, workdir, seconds=seconds)
            except Exception:  # an older ref (--compare): the column says n/a
                logging.exception("line 1 on the one-task diagram failed")
        for kind in kinds:
            name = BACKENDS[kind]
            problem = pg_problem() if kind == "postgres" else None
            if problem is not None:
                results.columns[name] = Column(
                    skipped=f"not run: no PostgreSQL at {PG_ADMIN_URL} ({problem})"
                )
                continue
            workers = args.serve_workers_sqlite if kind == "sqlite" else args.serve_workers_postgres
            results.columns[name] = run_backend(kind, bundle, one_task, lines, args.quick, workers)
        print(results.to_json() if args.json else render(results))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
