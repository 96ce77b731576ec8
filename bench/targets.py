"""The sections below `python -m bench`'s table: the one-task diagram against the in-process
engine, the request path against a bare FastAPI app, and issue 19's targets with their figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .http_lines import path_cost
from .results import Column, Results

PATH_TARGET = 1.5  # the service's request path at most 1.5x the bare app's


def _num(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, reference: float | None) -> str:
    return f"{value / reference:.2f}" if value is not None and reference else "n/a"


def one_task_table(results: Results) -> str:
    """Issue 19's one-task table: per second and as a share of EngineInstance in process."""
    if not results.line1_one and not any(c.one for c in results.columns.values()):
        return ""
    engine = results.line1_one.get("in_process")
    rows: list[tuple[str, Callable[[Column], float | None], bool]] = [
        ("EngineInstance in process: start → first wait → serialize", lambda c: engine, True),
        ("stock SpiffWorkflow, same diagram", lambda c: results.line1_one.get("stock"), True),
        ("via the runtime's engine (step process; line 1)", lambda c: results.line1_one.get("ours"), True),
        ("overdue:batch, cases/s (line 3)", lambda c: c.one.get("3"), True),
        ("overdue events, 16 connections, cases/s (line 2)", lambda c: c.one.get("2"), True),
        ("POST /cases, 8 clients, cases/s", lambda c: c.one.get("post8"), True),
        ("POST /cases, 1 client, cases/s", lambda c: c.one.get("post1"), True),
        ("claim + complete, 16 connections, tasks/s (line 4)", lambda c: c.one.get("4"), False),
        ("claim + complete, 1 client, tasks/s", lambda c: c.one.get("cc1"), False),
    ]
    names = [n for n, c in results.columns.items() if not c.skipped] or ["–"]
    label_width = max(len(label) for label, _, _ in rows)
    title = "one-task diagram (start → user task)"
    head = f"{title:<{label_width}}" + "".join(f"  {n:>10}  {'ratio':>5}" for n in names)
    out = [head, "-" * len(head)]
    for label, value_of, has_ratio in rows:
        row = f"{label:<{label_width}}"
        for name in names:
            column = results.columns.get(name, Column())
            value = value_of(column)
            row += f"  {_num(value):>10}  {(_ratio(value, engine) if has_ratio else '—'):>5}"
        out.append(row)
    out.append(
        "ratio: to EngineInstance in process on the same diagram (line 1 is measured once, no database)"
    )
    return "\n".join(out)


def request_path_table(results: Results) -> str:
    """GET /health through the service and the bare app, and the request path's own cost."""
    measured = {n: c.path for n, c in results.columns.items() if c.path}
    if not measured:
        return ""
    costs = {n: path_cost(p) for n, p in measured.items()}
    rows: list[tuple[str, Callable[[str], str]]] = [
        ("service GET /health (full middleware stack)", lambda n: f"{measured[n]['service /health']:.3f}"),
        ("bare FastAPI GET /health (the same handler)", lambda n: f"{measured[n]['bare /health']:.3f}"),
        ("bare FastAPI GET /ping (no handler work)", lambda n: f"{measured[n]['bare /ping']:.3f}"),
        ("request path, service: its /health − the handler", lambda n: f"{costs[n][0]:.3f}"),
        ("request path, bare app: its /ping", lambda n: f"{costs[n][1]:.3f}"),
    ]
    label_width = 58
    title = "request path, ms per request (1 keep-alive client)"
    head = f"{title:<{label_width}}" + "".join(f"  {n:>12}" for n in measured)
    out = [head, "-" * len(head)]
    for label, cell in rows:
        out.append(f"{label:<{label_width}}" + "".join(f"  {cell(n):>12}" for n in measured))
    whole = f"{'whole request: service /health ÷ bare /health':<{label_width}}"
    out.append(
        whole + "".join(f"  {p['service /health'] / p['bare /health']:>11.2f}×" for p in measured.values())
    )
    row = f"{f'request path: service ÷ bare (target ≤ {PATH_TARGET}×)':<{label_width}}"
    for service, bare in costs.values():
        ratio = service / bare
        row += f"  {f'{ratio:.2f}× ' + ('✓' if ratio <= PATH_TARGET else '✗'):>12}"
    out.append(row)
    out.append(
        "the handler (SELECT 1) costs bare /health − bare /ping; both apps one uvicorn worker, the"
        " settings of `serve`, measured interleaved; client time is in both (a difference of"
        " medians: noisy on a loaded machine)"
    )
    return "\n".join(out)


Figure = Callable[[Results, Column], tuple[float, str] | None]  # (value, shown); None: not measured
Value = Callable[[Results, Column], float | None]
BOTH = ("SQLite", "PostgreSQL")
ALL = ("all",)  # line 1: no database, one figure


@dataclass(frozen=True)
class Target:
    label: str
    bound: float
    figure: Figure
    backends: tuple[str, ...] = BOTH
    at_most: bool = False
    unit: str = ""

    @property
    def text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.bound:,g}{self.unit}"

    def met(self, value: float) -> bool:
        return value <= self.bound if self.at_most else value >= self.bound


def _shares(value: Value, reference: Value) -> Figure:
    def figure(r: Results, c: Column) -> tuple[float, str] | None:
        a, b = value(r, c), reference(r, c)
        return None if a is None or not b else (a / b, f"{a / b:.2f} ({a:,.0f} / {b:,.0f})")

    return figure


def _plain(value: Value, unit: str = "") -> Figure:
    def figure(r: Results, c: Column) -> tuple[float, str] | None:
        v = value(r, c)
        if v is None:
            return None
        return v, (f"{v:,.0f}" if unit == "/s" else f"{v:.2f}".rstrip("0").rstrip(".")) + unit

    return figure


def _path(_r: Results, c: Column) -> tuple[float, str] | None:
    if not c.path:
        return None
    service, bare = path_cost(c.path)
    return service / bare, f"{service / bare:.2f}× ({service:.2f} / {bare:.2f} ms)"


def _one(key: str) -> Value:
    return lambda r, c: c.one.get(key)


def _line(key: str) -> Value:
    return lambda r, c: c.values.get(key)


def _line1(key: str, one_task: bool = False) -> Value:
    return lambda r, c: (r.line1_one if one_task else r.line1).get(key)


def _sql(key: str) -> Value:
    return lambda r, c: c.sql.get(key)


_ENGINE_ONE = _line1("in_process", one_task=True)
TARGETS = [
    Target("one-task: overdue:batch ÷ in-process engine", 0.5, _shares(_one("3"), _ENGINE_ONE)),
    Target("one-task: POST /cases, 8 clients ÷ in-process engine", 0.25, _shares(_one("post8"), _ENGINE_ONE)),
    Target("one-task: claim + complete, 1 client", 150, _plain(_one("cc1"), "/s"), ("SQLite",), unit="/s"),
    Target("line 1 (runtime's engine) ÷ stock", 1.5, _shares(_line1("ours"), _line1("stock")), ALL),
    Target("  (EngineInstance in process ÷ stock)", 1.5, _shares(_line1("in_process"), _line1("stock")), ALL),
    Target("line 3 ÷ line 1", 0.6, _shares(_line("3"), _line1("ours"))),
    Target("line 2 ÷ line 1", 0.5, _shares(_line("2"), _line1("ours"))),
    Target("line 4, claim + complete", 150, _plain(_line("4"), "/s"), unit="/s"),
    Target("line 5, 2 workers", 1500, _plain(_line("5.2"), "/s"), ("PostgreSQL",), unit="/s"),
    Target("request path ÷ bare FastAPI app", PATH_TARGET, _path, at_most=True, unit="×"),
    Target("claim, SQL statements", 3, _plain(_sql("claim")), at_most=True),
    Target("complete, SQL statements", 7, _plain(_sql("complete")), at_most=True),
]


def target_table(results: Results) -> str:
    """Every issue-19 target with its figure per backend it applies to, and met / missed."""
    rows: list[tuple[str, str, str, str, str]] = []
    for target in TARGETS:
        names = ["all"] if target.backends == ALL else [n for n in results.columns if n in target.backends]
        for name in names:
            column = results.columns.get(name, Column())
            if column.skipped:
                continue
            figure = target.figure(results, column)
            verdict = "not measured" if figure is None else ("met" if target.met(figure[0]) else "missed")
            rows.append((target.label, name, figure[1] if figure else "–", target.text, verdict))
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    widths[:3] = [max(widths[0], len("issue 19 target")), max(widths[1], 7), max(widths[2], 6)]
    head = f"{'issue 19 target':<{widths[0]}}  {'backend':<{widths[1]}}  {'figure':<{widths[2]}}  target"
    out = [head, "-" * (len(head) + 14)]
    for label, name, figure_text, target_text, verdict in rows:
        out.append(
            f"{label:<{widths[0]}}  {name:<{widths[1]}}  {figure_text:<{widths[2]}}"
            f"  {target_text:<{widths[3]}}  {verdict}"
        )
    return "\n".join(out)
