"""Calibration round trip: simulate the toy portfolio with known probabilities, keep its database,
fit a model from its closed cases, and find the probabilities again (with the sample sizes)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.cli import main
from xinedai_workflow.settings import Settings, get_settings
from xinedai_workflow.simulation.calibrate import calibrate
from xinedai_workflow.simulation.model import load_model
from xinedai_workflow.simulation.run import SchemaTemplate, VariantRun
from xinedai_workflow.simulation.simulator import Variant

HERE = Path(__file__).resolve().parent


def test_fit_recovers_the_probabilities_of_a_simulated_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_model(HERE / "toy_model.yaml")
    variant = Variant.from_dir("baseline", HERE / "toy")
    run = VariantRun(
        variant.files,
        variant.directory,
        model,
        200,
        16,
        9,
        SchemaTemplate(tmp_path),
        tmp_path,
        build_services,
    )
    run.run()
    [history] = [p for p in tmp_path.glob("run-*.db")]
    url = f"sqlite:///{history}"
    services = build_services(Settings(database_url=url, default_process_key="toy_cure"))
    try:
        fit = calibrate(
            services.db, load_model(HERE.parents[1] / "processes/simulation/default_model.yaml"), "toy_cure"
        )
    finally:
        services.db.dispose()
    report = fit.report
    assert fit.raw["calibration"]["closed_cases"] == 200  # 16 days: every promise window is over
    assert report["borrower.promise"]["sample_size"] == 200 and report["borrower.promise"]["fitted"]
    assert abs(report["borrower.promise"]["value"] - 0.5) < 0.1
    assert abs(report["borrower.keep_promise"]["value"] - 0.6) < 0.12
    assert fit.raw["borrower"]["answer_by_local_hour"]["default"] == 1.0
    assert report["borrower.letter_response.pay"] == {"value": 0.3, "sample_size": 0, "fitted": False}
    assert fit.raw["portfolio"]["timezones"] == {"Asia/Shanghai": 1.0}

    out = tmp_path / "fitted"
    monkeypatch.setenv("XINEDAI_DATABASE_URL", url)
    monkeypatch.setenv("XINEDAI_DEFAULT_PROCESS_KEY", "toy_cure")
    get_settings.cache_clear()
    try:
        assert main(["simulate", "--calibrate-from-db", "--out", str(out)]) == 0
    finally:
        get_settings.cache_clear()
    written = yaml.safe_load((out / "model.yaml").read_text(encoding="utf-8"))
    assert written["calibration"]["closed_cases"] == 200
    assert load_model(out / "model.yaml").p("promise") == report["borrower.promise"]["value"]
