"""The what-if simulator on the real engine, guard and worker: a known answer, determinism of
summary.json, zero policy violations under pressure, and the model file's validation."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROCESSES
from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.cli import main
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.simulation.model import ModelInvalid, load_model, parse_model
from xinedai_workflow.simulation.simulator import Variant, simulate

HERE = Path(__file__).resolve().parent
TOY = HERE / "toy"
TOY_MODEL = HERE / "toy_model.yaml"
DEFAULT_MODEL = PROCESSES / "simulation" / "default_model.yaml"


def shorter_wait_between_calls(target: Path) -> Path:
    """The shipped bundle with every wait between calls cut to one day (a plausible edit)."""
    shutil.copytree(PROCESSES, target)
    dmn = target / "segmentation.dmn"
    text = dmn.read_text(encoding="utf-8")
    assert '"P3D"' in text and '"P2D"' in text
    dmn.write_text(text.replace('"P3D"', '"P1D"').replace('"P2D"', '"P1D"'), encoding="utf-8")
    return target


def test_known_answer_cure_rate_of_the_toy_diagram() -> None:
    """Every call answered, P(promise) = 0.5, P(keep) = 0.6 → cure rate 0.3 by hand."""
    model = load_model(TOY_MODEL)
    cases = 300
    summary, _ = simulate(
        [Variant.from_dir("baseline", TOY)], model, cases=cases, days=6, seed=7, build=build_services
    )
    figures = summary["variants"]["baseline"]
    expected = 0.5 * 0.6
    half = 1.96 * math.sqrt(expected * (1 - expected) / cases)
    assert expected - half <= figures["cure_rate"] <= expected + half, figures["cure_rate"]
    assert sum(figures["outcomes"].values()) == cases
    # every borrower was called once and answered: half promised, the rest refused at once
    assert figures["stage_entries"]["informal"] == cases
    assert figures["contacts_per_borrower_day"]["distribution"] == {"1": cases}
    assert figures["policy_violations"] == 0
    # kept promises paid in full: cured cases recovered what they owed, nobody else paid
    assert 0 < figures["recovery_rate"] < 0.5


def test_same_inputs_same_summary_byte_for_byte(tmp_path: Path) -> None:
    candidate = shorter_wait_between_calls(tmp_path / "candidate")
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        argv = ["simulate", str(candidate), "--against", str(PROCESSES), "--cases", "6", "--days", "5"]
        argv += ["--seed", "3", "--replications", "2", "--out", str(out), "--no-progress"]
        assert main(argv) == 0
        outputs.append((out / "summary.json").read_bytes())
    assert outputs[0] == outputs[1]
    summary = json.loads(outputs[0])
    assert {"seed", "cases", "days", "replications", "variants"} <= set(summary)
    assert (summary["seed"], summary["cases"], summary["days"], summary["replications"]) == (3, 6, 5, 2)
    for name in ("baseline", "candidate"):
        v = summary["variants"][name]
        for key in (
            "cure_rate",
            "recovery_rate",
            "outcomes",
            "stage_entries",
            "policy_violations",
            "letters",
            "lawsuits",
            "plans_agreed",
            "plans_kept",
            "workload",
            "mean_days_to_close",
            "p90_days_to_close",
        ):
            assert key in v, key
        assert {"max", "mean", "distribution"} <= set(v["contacts_per_borrower_day"])
        assert v["policy_violations"] == 0
        assert sum(v["outcomes"].values()) == 12
    assert summary["differences"]["cure_rate"]["ci95"] is not None
    for chart in ("funnel", "outcomes", "contacts", "workload"):
        for ext in ("png", "svg"):
            assert (tmp_path / "a" / f"{chart}.{ext}").stat().st_size > 1000
    # the candidate calls more often: more call tasks were worked per case
    base, cand = summary["variants"]["baseline"], summary["variants"]["candidate"]
    calls = [sum(v["workload"]["collectors"]["per_day"]["completed"]) for v in (base, cand)]
    assert calls[1] >= calls[0]


def test_guard_holds_against_a_diagram_that_calls_without_pause() -> None:
    """A careless edit calls again at once after every refusal, staff work round the clock and
    half the borrowers live in London: the guard refuses the night calls and every call beyond
    the daily cap, and the compliance report finds no violation."""
    model = load_model(HERE / "pushy_model.yaml")
    summary, _ = simulate(
        [Variant.from_dir("baseline", HERE / "pushy")], model, cases=6, days=2, seed=5, build=build_services
    )
    figures = summary["variants"]["baseline"]
    assert figures["guard_refusals"] > 0
    assert figures["policy_violations"] == 0
    calls = figures["connected_calls_per_borrower_day"]
    assert calls["max"] == calls["cap"] == 3  # the cap was reached, never passed


def test_model_file_is_validated(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_MODEL.read_text(encoding="utf-8"))
    raw["borrower"]["promise"] = 1.5
    raw["borrower"]["surprise"] = True
    with pytest.raises(ModelInvalid) as err:
        parse_model(raw)
    paths = {p["path"] for p in err.value.problems}
    assert "/borrower/promise" in paths and "/borrower" in paths
    raw = yaml.safe_load(DEFAULT_MODEL.read_text(encoding="utf-8"))
    raw["borrower"]["promise_days"] = [7, 1]
    with pytest.raises(ModelInvalid, match="not ascending"):
        parse_model(raw)
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_version: x\nportfolio: {}\n", encoding="utf-8")
    assert main(["simulate", "--model", str(bad), "--cases", "1", "--days", "1", "--seed", "1"]) == 2


def test_simulation_folder_is_not_deployed() -> None:
    files = read_bundle_dir([PROCESSES])
    assert not any(name.startswith("simulation/") for name in files)
    assert "contact_policy.yaml" in files
