"""Champion/challenger: a split by a stable hash of the loan id between two deployed versions,
the variant recorded on the case, and GET /reports/kpis?by=variant with a cure-rate z-test."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TokenFactory, overdue_event
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case
from xinedai_workflow.domain.strategy import parse_split, two_proportion_test
from xinedai_workflow.settings import Settings

TOY = Path(__file__).resolve().parents[1] / "simulation" / "toy"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"default_process_key": "toy_cure", "strategy_split": "1:50,2:50"})


def _deploy_two_versions(client: TestClient, auth: TokenFactory) -> None:
    form = ("toy_call.json", (TOY / "toy_call.json").read_bytes(), "application/json")
    bpmn = (TOY / "toy_cure.bpmn").read_bytes()
    for content in (bpmn, bpmn.replace(b'name="Toy cure"', b'name="Toy cure (challenger)"')):
        files = [("files", ("toy_cure.bpmn", content, "application/xml")), ("files", form)]
        response = client.post("/api/v1/definitions", headers=auth("compliance"), files=files)
        assert response.status_code == 201, response.text


def test_split_records_the_variant_and_kpis_compare_it(
    client: TestClient, auth: TokenFactory, services: Services, clock: ManualClock
) -> None:
    _deploy_two_versions(client, auth)
    split = parse_split("1:50,2:50")
    system, alice = auth("system"), auth("collector", groups=["collectors"], sub="alice")
    loans = [f"CC-{i:03d}" for i in range(24)]
    for i, loan_id in enumerate(loans):
        case_id = client.post("/api/v1/events/overdue", headers=system, json=overdue_event(loan_id)).json()[
            "case_id"
        ]
        task = client.get(f"/api/v1/tasks?case_id={case_id}", headers=alice).json()["items"][0]
        client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice)
        data: dict[str, Any] = (
            {"outcome": "promise_to_pay", "promised_amount": "100.00", "promised_date": "2026-03-04"}
            if i % 3 == 0 or split.share_of(loan_id).version == 2
            else {"outcome": "refused"}
        )
        done = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=alice, json={"data": data})
        assert done.status_code == 200, done.text
        if data["outcome"] == "promise_to_pay":
            payment = {"event_id": str(uuid.uuid4()), "loan_id": loan_id, "amount": "100.00",
                       "paid_at": clock.now().isoformat(), "channel": "bank_transfer"}  # fmt: skip
            assert client.post("/api/v1/events/payment", headers=system, json=payment).status_code == 202
    clock.advance(timedelta(hours=1))

    with services.db.read() as session:
        rows = session.execute(
            select(Case.loan_id, Case.variant, Case.definition_version, Case.outcome)
        ).all()
    assert len(rows) == len(loans)
    for loan_id, variant, version, _outcome in rows:
        expected = split.share_of(loan_id)
        assert (variant, version) == (expected.label, expected.version)
    assert {r.variant for r in rows} == {"v1", "v2"}  # 24 loans: both shares used

    plain = client.get("/api/v1/reports/kpis?from=2026-03-01&to=2026-03-31", headers=auth("compliance"))
    assert plain.status_code == 200 and "variants" not in plain.json() and "by" not in plain.json()
    response = client.get(
        "/api/v1/reports/kpis?from=2026-03-01&to=2026-03-31&by=variant", headers=auth("compliance")
    )
    assert response.status_code == 200, response.text
    report = response.json()
    counts = {v: sum(1 for r in rows if r.variant == v) for v in ("v1", "v2")}
    cured = {v: sum(1 for r in rows if r.variant == v and r.outcome == "cured") for v in ("v1", "v2")}
    assert cured["v2"] == counts["v2"]  # every v2 loan promised and paid
    for name in ("v1", "v2"):
        assert report["variants"][name]["cases"] == counts[name]
        assert report["variants"][name]["cured"] == cured[name]
    [test] = report["cure_rate_tests"]
    champion = test["champion"]
    challenger = "v2" if champion == "v1" else "v1"
    expected_test = two_proportion_test(
        cured[champion], counts[champion], cured[challenger], counts[challenger]
    )
    assert expected_test is not None and test["challenger"] == challenger
    assert test["z"] == pytest.approx(expected_test.z, abs=1e-6)
    assert 0 <= test["p_value"] <= 1 and test["ci95"][0] <= test["difference"] <= test["ci95"][1]
    assert client.get("/api/v1/reports/kpis?by=stage", headers=auth("compliance")).status_code == 422


def test_split_parsing_and_stability() -> None:
    split = parse_split("3:80, 4:20")
    labels = [split.share_of(f"L-{i}").label for i in range(2000)]
    assert labels == [split.share_of(f"L-{i}").label for i in range(2000)]
    assert 0.76 < labels.count("v3") / 2000 < 0.84
    for bad in ("3", "3:80", "3:80,3:20", "a:1,b:2", "0:5,1:5", "3:0,4:1"):
        with pytest.raises(ValueError):
            parse_split(bad)
    with pytest.raises(ValueError):
        Settings(strategy_split="3:80")
    # the textbook example: 30/100 against 45/100
    found = two_proportion_test(30, 100, 45, 100)
    assert found is not None and found.z == pytest.approx(2.191, abs=1e-3)
    assert found.p_value == pytest.approx(0.0285, abs=1e-3)
