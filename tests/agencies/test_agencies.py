"""Agencies: registration under the bank's policy, the public list, placement and recall, what an
agency collector sees (only their placed cases, minimum personal data, every read logged), the
shared daily caps, commission statements reconciled to the fen, the scorecard, contract end."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import jwt
import pytest
from sqlalchemy import select

from tests.agencies.conftest import agency, agency_token, new_loan, place, register
from tests.scenarios.conftest import Flow
from xinedai_workflow.auth.tokens import mint_token
from xinedai_workflow.db.models import BlockedContact, PersonalDataRead, RecordedContact

SUPERVISOR = {"groups": ["collectors", "supervisors"], "sub": "sup-1"}
CALL = {"channel": "call", "outcome": "promise_to_pay"}


def test_an_agency_follows_the_banks_policy_and_the_public_list_names_it(flow: Flow) -> None:
    client, compliance = flow.client, flow.auth("compliance")
    weaker = client.post(
        "/api/v1/agencies", headers=compliance, json=agency("AG-W", contact_policy_id="agency-own-policy")
    )
    assert weaker.status_code == 422
    assert weaker.json()["error"]["details"][0]["field"] == "contact_policy_id"
    bad_dates = client.post(
        "/api/v1/agencies", headers=compliance, json=agency("AG-D", contract_end="2025-12-31")
    )
    assert bad_dates.status_code == 422
    float_rate = client.post("/api/v1/agencies", headers=compliance, json=agency("AG-F", commission_rate=0.1))
    assert float_rate.status_code == 422
    assert (
        client.post("/api/v1/agencies", headers=flow.auth("collector"), json=agency("AG-X")).status_code
        == 403
    )

    created = register(flow, "AG-1")
    assert created["commission_rate"] == "0.1250" and created["active_placements"] == 0
    again = client.post("/api/v1/agencies", headers=compliance, json=agency("AG-1"))
    assert again.status_code == 200 and again.json() == created
    other = client.post("/api/v1/agencies", headers=compliance, json=agency("AG-1", commission_rate="0.2"))
    assert other.status_code == 409
    register(flow, "AG-OLD", contract_start="2025-01-01", contract_end="2025-12-31")

    public = client.get("/api/v1/agencies/public")  # no token
    assert public.status_code == 200
    items = public.json()["items"]
    assert items == [
        {
            "name": "AG-1 催收服务有限公司",
            "scope": "个人消费贷款逾期 M1-M3 电话催收",
            "contract_start": "2026-01-01",
            "contract_end": "2026-12-31",
        }
    ]  # the ended contract is not listed; nor are commission, contract number or data fields
    assert client.get("/api/v1/agencies").status_code == 401


def test_an_agency_collector_sees_only_their_agencys_placed_cases(flow: Flow) -> None:
    register(flow, "AG-A")
    register(flow, "AG-B")
    mine, _ = flow.overdue()
    theirs, _ = flow.overdue()
    unplaced, _ = flow.overdue()
    placement = place(flow, "AG-A", mine)[0]
    place(flow, "AG-B", theirs)
    a = agency_token(flow, "AG-A")

    listed = flow.client.get("/api/v1/agency/cases", headers=a)
    assert listed.status_code == 200
    assert [c["case_id"] for c in listed.json()["items"]] == [mine]
    view = flow.client.get(f"/api/v1/agency/cases/{mine}", headers=a).json()
    assert view["borrower"]["name"] == "王小明" and view["borrower"]["phone"] == "13812345678"
    assert view["borrower"]["email"] != "wxm@example.com" and "email" in view["masked_fields"]
    assert view["borrower"]["address"] != "北京市朝阳区建国路1号" and "id" in view["masked_fields"]
    assert view["amounts"]["total"]

    for case_id in (theirs, unplaced):
        assert flow.client.get(f"/api/v1/agency/cases/{case_id}", headers=a).status_code == 404
        acted = flow.client.post(f"/api/v1/agency/cases/{case_id}/contacts", headers=a, json=CALL)
        assert acted.status_code == 404
        check = flow.client.get(f"/api/v1/agency/cases/{case_id}/contact-check", headers=a)
        assert check.status_code == 404
    # the bank's endpoints are not theirs; a bank collector cannot reach the agency's
    assert flow.client.get(f"/api/v1/cases/{mine}", headers=a).status_code == 403
    assert flow.client.get("/api/v1/tasks", headers=a).status_code == 403
    assert flow.client.get("/api/v1/agency/cases", headers=flow.auth("collector")).status_code == 403

    with flow.services.db.read() as session:
        reads = session.scalars(
            select(PersonalDataRead).where(PersonalDataRead.access == "agency_case_view")
        ).all()
    assert [(r.actor, str(r.case_id)) for r in reads] == [("AG-A-collector", mine)] * 2
    assert set(reads[0].fields) == {"borrower.name", "borrower.phone"}

    recalled = flow.client.post(
        f"/api/v1/placements/{placement['placement_id']}/recall",
        headers=flow.auth("supervisor", **SUPERVISOR),
        json={"reason": "request", "note": "bank works it again"},
    )
    assert recalled.status_code == 200 and recalled.json()["active"] is False
    assert flow.client.get(f"/api/v1/agency/cases/{mine}", headers=a).status_code == 404
    again = flow.client.post(
        f"/api/v1/placements/{placement['placement_id']}/recall",
        headers=flow.auth("supervisor", **SUPERVISOR),
        json={"reason": "request"},
    )
    assert again.status_code == 409
    assert "agency_recalled" in flow.actions(mine) and "agency_placed" in flow.actions(mine)


def test_placing_is_all_or_nothing(flow: Flow) -> None:
    register(flow, "AG-A")
    register(flow, "AG-B")
    first, _ = flow.overdue()
    second, _ = flow.overdue()
    place(flow, "AG-A", first)
    sup = flow.auth("supervisor", **SUPERVISOR)
    both = flow.client.post(
        "/api/v1/agencies/AG-B/placements", headers=sup, json={"case_ids": [second, first]}
    )
    assert both.status_code == 409 and both.json()["error"]["details"]["already_placed"] == [first]
    unknown = flow.client.post(
        "/api/v1/agencies/AG-B/placements",
        headers=sup,
        json={"case_ids": [second, "01890000-0000-7000-8000-000000000000"]},
    )
    assert unknown.status_code == 404
    listed = flow.client.get("/api/v1/agencies/AG-B/placements", headers=sup).json()["items"]
    assert listed == []  # nothing of either failed batch was placed
    assert (
        flow.client.post(
            "/api/v1/agencies/AG-B/placements",
            headers=flow.auth("collector", groups=["collectors"]),
            json={"case_ids": [second]},
        ).status_code
        == 403
    )


def _borrower_case(flow: Flow, borrower_id: str) -> str:
    loan = new_loan()
    case_id, _ = flow.overdue(
        loan_id=loan,
        borrower={
            "id": borrower_id,
            "name": "李四",
            "phone": "13900001111",
            "email": "ls@example.com",
            "address": "上海市浦东新区世纪大道100号",
            "timezone": "Asia/Shanghai",
        },
    )
    return case_id


def test_two_agencies_and_the_bank_together_never_exceed_the_borrowers_daily_caps(flow: Flow) -> None:
    register(flow, "AG-A")
    register(flow, "AG-B")
    via_a, via_b, bank = (_borrower_case(flow, "B-SHARED") for _ in range(3))
    place(flow, "AG-A", via_a)
    place(flow, "AG-B", via_b)
    a, b = agency_token(flow, "AG-A"), agency_token(flow, "AG-B")
    parties = [("a", via_a, a), ("b", via_b, b), ("bank", bank, None)] * 4
    random.Random(20).shuffle(parties)
    answers: Counter[tuple[str, int]] = Counter()
    for who, case_id, headers in parties:
        if headers is None:
            check = flow.client.get(
                f"/api/v1/cases/{case_id}/contact-check",
                headers=flow.auth("collector", groups=["collectors"], sub="alice"),
            )
            if not check.json()["allowed"]:
                answers[(who, 409)] += 1
                continue
            task = flow.open_task(case_id, "call_borrower")
            headers_c = flow.auth("collector", groups=["collectors"], sub="alice")
            flow.client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=headers_c)
            done = flow.client.post(
                f"/api/v1/tasks/{task['task_id']}/complete",
                headers=headers_c,
                json={"data": {"outcome": "no_answer"}},
            )
            answers[(who, done.status_code)] += 1
            continue
        response = flow.client.post(f"/api/v1/agency/cases/{case_id}/contacts", headers=headers, json=CALL)
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "contact_not_allowed"
        answers[(who, response.status_code)] += 1
    flow.run_worker()  # the bank's own reminders (SMS, e-mail) now count against the same caps
    with flow.services.db.read() as session:
        contacts = session.scalars(
            select(RecordedContact).where(RecordedContact.borrower_id == "B-SHARED")
        ).all()
        blocks = session.scalars(select(BlockedContact).where(BlockedContact.borrower_id == "B-SHARED")).all()
    per_day = Counter(c.local_date for c in contacts if c.channel == "call" and c.connected is not False)
    assert max(per_day.values()) == 3  # the cap was reached, never passed
    reached = Counter(c.local_date for c in contacts if c.connected is not False)
    assert max(reached.values()) <= 6
    by_agency = Counter(c.agency_id for c in contacts if c.channel == "call" and c.connected)
    assert by_agency["AG-A"] + by_agency["AG-B"] == 3 and by_agency["AG-A"] and by_agency["AG-B"]
    refused_agencies = {blk.agency_id for blk in blocks if blk.rule == "daily_call_cap"}
    assert refused_agencies == {"AG-A", "AG-B"}
    report = flow.client.get("/api/v1/reports/compliance", headers=flow.auth("compliance")).json()
    assert report["over_daily_cap"]["count"] == 0
    assert report["connected_calls_per_borrower_per_day"]["max"] == 3


def test_an_agency_uses_only_the_channels_its_contract_names(flow: Flow) -> None:
    register(flow, "AG-C", allowed_channels=["call"])
    case_id, _ = flow.overdue()
    place(flow, "AG-C", case_id)
    headers = agency_token(flow, "AG-C")
    sms = flow.client.post(
        f"/api/v1/agency/cases/{case_id}/contacts",
        headers=headers,
        json={"channel": "sms", "outcome": "sent"},
    )
    assert sms.status_code == 409 and sms.json()["error"]["details"]["rule"] == "agency_not_allowed"
    check = flow.client.get(
        f"/api/v1/agency/cases/{case_id}/contact-check?channel=sms", headers=headers
    ).json()
    assert check["allowed"] is False and check["rule"] == "agency_not_allowed"
    call = flow.client.post(f"/api/v1/agency/cases/{case_id}/contacts", headers=headers, json=CALL)
    assert call.status_code == 201 and call.json()["connected"] is True
    assert "contact_refused" in flow.actions(case_id) and "contact_recorded" in flow.actions(case_id)


def test_the_daily_commission_statement_reconciles_to_the_fen(flow: Flow) -> None:
    register(flow, "AG-A", commission_rate="0.1375")
    loans = []
    for _ in range(3):
        case_id, loan = flow.overdue(overdue_principal="90000.00", principal="120000.00")
        loans.append((case_id, loan))
    flow.pay(loans[0][1], "10.00")  # before placement: no commission
    placements = place(flow, "AG-A", *(c for c, _ in loans))
    rng = random.Random(7)
    paid = []
    for _ in range(25):
        case_id, loan = rng.choice(loans)
        amount = Decimal(rng.randint(1, 99999)) / 100
        flow.clock.advance(timedelta(minutes=7))
        flow.pay(loan, str(amount))
        paid.append(amount)
    flow.client.post(
        f"/api/v1/placements/{placements[0]['placement_id']}/recall",
        headers=flow.auth("supervisor", **SUPERVISOR),
        json={"reason": "request"},
    )
    flow.pay(loans[0][1], "20.00")  # after the recall: no commission
    headers = flow.auth("compliance")
    statement = flow.client.get("/api/v1/agencies/AG-A/statements/2026-03-02", headers=headers).json()
    assert statement["payments"] == 25
    assert Decimal(statement["payments_total"]) == sum(paid)
    expected = sum((a * Decimal("0.1375")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for a in paid)
    assert Decimal(statement["commission_total"]) == expected
    lines = statement["lines"]
    assert sum(Decimal(line["commission"]) for line in lines) == expected
    assert all(len(line["amount"].split(".")[1]) == 2 for line in lines)
    assert statement["reconciled"] is True
    assert abs(Decimal(statement["rounding_difference"])) <= Decimal("0.005") * 25
    empty = flow.client.get("/api/v1/agencies/AG-A/statements/2026-03-03", headers=headers).json()
    assert empty["payments"] == 0 and empty["commission_total"] == "0.00" and empty["reconciled"] is True

    card = flow.client.get("/api/v1/agencies/AG-A/scorecard?from=2026-03-01&to=2026-03-02", headers=headers)
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["placements"] == 3 and Decimal(body["recovered"]) == sum(paid)
    placed = sum(Decimal(p["balance_at_placement"]) for p in placements)
    assert Decimal(body["recovery_rate"]) == (sum(paid) / placed).quantize(Decimal("0.0001"))
    assert body["borrower_days"] == 3 and body["complaints"] == 0
    assert (
        flow.client.get("/api/v1/agencies/AG-A/scorecard", headers=flow.auth("collector")).status_code == 403
    )


def test_the_scorecard_counts_contacts_and_violations_attempted(flow: Flow) -> None:
    register(flow, "AG-A")
    case_id, _ = flow.overdue()
    place(flow, "AG-A", case_id)
    headers = agency_token(flow, "AG-A")
    statuses = [
        flow.client.post(f"/api/v1/agency/cases/{case_id}/contacts", headers=headers, json=CALL).status_code
        for _ in range(4)
    ]
    assert statuses == [201, 201, 201, 409]
    card = flow.client.get(
        "/api/v1/agencies/AG-A/scorecard?from=2026-03-02&to=2026-03-02", headers=flow.auth("auditor")
    )
    body = card.json()
    assert body["contacts"] == 3 and body["violations_attempted"] == 1
    assert body["violations_by_rule"] == {"daily_call_cap": 1}
    assert body["borrower_days"] == 1 and body["contacts_per_borrower_day"] == "3.00"


def test_placements_are_recalled_when_the_contract_ends(flow: Flow) -> None:
    register(flow, "AG-E", contract_end="2026-03-04")
    case_id, _ = flow.overdue()
    place(flow, "AG-E", case_id)
    headers = agency_token(flow, "AG-E")
    assert flow.client.get(f"/api/v1/agency/cases/{case_id}", headers=headers).status_code == 200
    flow.advance_to_local(3, 10)  # 2026-03-05: the contract has ended
    assert flow.client.get(f"/api/v1/agency/cases/{case_id}", headers=headers).status_code == 404
    placements = flow.client.get(
        "/api/v1/agencies/AG-E/placements?active=false", headers=flow.auth("compliance")
    ).json()["items"]
    assert [(p["active"], p["recall_reason"]) for p in placements] == [(False, "contract_end")]
    agency_view = flow.client.get("/api/v1/agencies/AG-E", headers=flow.auth("compliance")).json()
    assert agency_view["evaluation_due"] is True  # never evaluated before its contract ended


def test_an_agency_collector_token_carries_the_agency(flow: Flow) -> None:
    settings = flow.services.settings
    with pytest.raises(ValueError, match="agency"):
        mint_token(settings, "x", ["agency_collector"])
    forged = jwt.encode(
        {
            "sub": "x",
            "roles": ["agency_collector"],
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "exp": 4102444800,
        },
        settings.jwt_secret,
        algorithm="HS256",
    )
    answer = flow.client.get("/api/v1/agency/cases", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    env = {"XINEDAI_JWT_SECRET": settings.jwt_secret, "PATH": "/usr/bin:/bin"}
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "xinedai_workflow.cli",
            "token",
            "--sub",
            "zhang",
            "--role",
            "agency_collector",
            "--agency",
            "AG-9",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    claims = jwt.decode(printed, settings.jwt_secret, algorithms=["HS256"], audience=settings.jwt_audience)
    assert claims["agency"] == "AG-9" and claims["roles"] == ["agency_collector"]
