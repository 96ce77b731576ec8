"""Smoke test of the benchmark's own code (`python -m bench`), with tiny sizes and no timing
assertions: the one-task diagram runs in the engine and through the services, the SQL counts are
taken per call, and the table, the issue-19 sections and the --compare figures come out of one
run's results."""

from __future__ import annotations

from pathlib import Path

from bench import compare, engine_lines, statement_counts
from bench.__main__ import render
from bench.env import Bundle, backend
from bench.results import Column, Results


def test_one_task_column_counts_and_sections(tmp_path: Path) -> None:
    bundle = Bundle.choose(tmp_path, "t_collect")
    one_task = Bundle.one_task(tmp_path)
    line1_one = engine_lines.engine_ceiling(one_task, tmp_path, seconds=0.02, runs=1)
    assert all(rate is not None and rate > 0 for rate in line1_one.values()), line1_one

    with backend("sqlite", bundle, tmp_path) as db:
        db.deploy_fixtures()
        sql = statement_counts.measure(db, one_task, calls=2)
    assert sql.keys() == statement_counts.CALLS.keys()
    measured = {key: value for key, value in sql.items() if key != "outbox"}  # t_collect sends nothing
    assert all(value is not None and value > 0 for value in measured.values()), sql
    for key, floor in statement_counts.FLOORS.items():
        assert sql[key] is not None and sql[key] <= floor, (key, sql[key])

    results = Results({"SQLite": Column(sql=sql)}, line1={}, line1_one=line1_one, note=bundle.note)
    assert Results.from_json(results.to_json()) == results
    table = render(results)
    for heading in ("SQLite 1-task", "one-task diagram (start → user task)", "SQL statements per call"):
        assert heading in table
    assert "claim, SQL statements" in table and "not measured" in table  # no HTTP lines were run

    figures = compare._figures(results)
    assert figures["SQLite 1-task"]["sql.claim"] == sql["claim_one"]
    assert figures["SQLite"]["sql.complete"] == sql["complete"]
    assert figures["SQLite 1-task"]["1.in_process"] == line1_one["in_process"]
