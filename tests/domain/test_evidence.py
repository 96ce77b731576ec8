import hashlib
from datetime import date

import pytest

from xinedai_workflow.domain.evidence import (
    EvidenceError,
    EvidenceKind,
    LoanFacts,
    NoticeRecord,
    RecordRef,
    build_evidence_manifest,
    build_evidence_package,
    canonical_json,
)
from xinedai_workflow.domain.interest import compute_claim

CLAIM = compute_claim("10000.00", "500.00", "2025-01-15", "2025-06-15", "0.063")


def full_facts() -> LoanFacts:
    return LoanFacts(
        loan_id="L-1",
        borrower_id=RecordRef("ID-REF-9", "KYC system", date(2024, 1, 2), sha256="ab" * 32),
        contract=RecordRef("C-123", "core banking", date(2024, 1, 15), content=b"%PDF-contract"),
        e_signatures=(RecordRef("ES-7", "e-signature platform", date(2024, 1, 15), content="sig"),),
        consents=(RecordRef("CONSENT-3", "loan origination", date(2024, 1, 15), content="consent"),),
        disbursement=RecordRef("TX-55", "payment hub", date(2024, 1, 16), content="disbursed 60000"),
        repayment_history=RecordRef("RH-L-1", "loan ledger", date(2025, 6, 15), content="history"),
        notices=(
            NoticeRecord(
                "msg-3",
                EvidenceKind.DEMAND_LETTER,
                date(2025, 5, 20),
                "1100000000001",
                "EMS",
                date(2025, 5, 22),
                "letter",
            ),
            NoticeRecord("msg-1", EvidenceKind.SMS, date(2025, 1, 20), "gw-receipt-1", content="sms"),
            NoticeRecord("msg-2", EvidenceKind.CALL, date(2025, 2, 3), "rec-77"),
        ),
        computation=CLAIM,
    )


def test_complete_package_in_catalogue_order_with_hashes() -> None:
    manifest = build_evidence_package(full_facts(), generated_on=date(2025, 6, 16))
    assert manifest.complete and not manifest.missing
    kinds = [d.kind for d in manifest.documents]
    assert kinds == [
        EvidenceKind.BORROWER_ID,
        EvidenceKind.CONTRACT,
        EvidenceKind.E_SIGNATURE,
        EvidenceKind.CONSENT,
        EvidenceKind.DISBURSEMENT,
        EvidenceKind.REPAYMENT_HISTORY,
        EvidenceKind.SMS,
        EvidenceKind.CALL,
        EvidenceKind.DEMAND_LETTER,
        EvidenceKind.COMPUTATION,
    ]
    assert [d.code for d in manifest.documents][:3] == ["E01", "E02", "E03"]
    contract = manifest.documents[1]
    assert contract.sha256 == hashlib.sha256(b"%PDF-contract").hexdigest()
    assert contract.source == "core banking: C-123"
    assert contract.title_zh == "个人借款合同" and contract.title_en == "Signed loan contract"
    assert manifest.documents[0].sha256 == "ab" * 32 and manifest.documents[0].size is None
    letter = manifest.documents[8]
    assert (
        letter.source
        == "outbox message msg-3, registered mail tracking EMS 1100000000001, delivered 2025-05-22"
    )
    computation = manifest.documents[-1]
    assert computation.source.startswith("computed by xinedai_workflow.domain.interest v")
    assert computation.sha256 == hashlib.sha256(canonical_json(CLAIM).encode()).hexdigest()
    assert computation.date == date(2025, 6, 15)
    # the call has no content: warned, not missing
    assert [w.reason for w in manifest.warnings] == ["msg-2: no content or hash; attach the original"]


def test_missing_required_documents_are_reported() -> None:
    manifest = build_evidence_package(LoanFacts(loan_id="L-2"), generated_on=date(2025, 6, 16))
    assert not manifest.complete
    assert [m.kind for m in manifest.missing] == [
        EvidenceKind.BORROWER_ID,
        EvidenceKind.CONTRACT,
        EvidenceKind.DISBURSEMENT,
        EvidenceKind.REPAYMENT_HISTORY,
        EvidenceKind.COMPUTATION,
        EvidenceKind.DEMAND_LETTER,
    ]
    assert {w.kind for w in manifest.warnings} == {EvidenceKind.E_SIGNATURE, EvidenceKind.CONSENT}


def test_demand_letter_without_delivery_proof_does_not_count() -> None:
    facts = full_facts()
    unproven = NoticeRecord("msg-9", EvidenceKind.DEMAND_LETTER, date(2025, 5, 20), content="letter")
    facts = LoanFacts(**{**facts.__dict__, "notices": (unproven,)})
    manifest = build_evidence_package(facts, generated_on=date(2025, 6, 16))
    assert [(m.kind, m.reason) for m in manifest.missing] == [
        (EvidenceKind.DEMAND_LETTER, "no demand letter has delivery proof")
    ]


def test_hash_mismatch_and_bad_notice_kind_are_errors() -> None:
    bad = LoanFacts(loan_id="L", contract=RecordRef("C", "core", content="x", sha256="00" * 32))
    with pytest.raises(EvidenceError):
        build_evidence_package(bad, generated_on=date(2025, 1, 1))
    with pytest.raises(EvidenceError):
        NoticeRecord("m", EvidenceKind.CONTRACT, date(2025, 1, 1))


def test_dict_api_and_manifest_hash_is_stable() -> None:
    facts = {
        "loan_id": "L-3",
        "borrower_id": {"reference": "ID-1", "system": "KYC", "content": "id"},
        "contract": {"reference": "C-1", "system": "core banking", "date": "2024-01-15", "content": "c"},
        "disbursement": {"reference": "TX-1", "system": "payment hub", "content": "d"},
        "repayment_history": {"reference": "RH-1", "system": "loan ledger", "content": "r"},
        "notices": [
            {
                "message_id": "m-1",
                "kind": "demand_letter",
                "sent_on": "2025-05-20",
                "delivery_proof": "EMS123",
                "content": "l",
            }
        ],
        "computation": CLAIM,
    }
    first = build_evidence_manifest(facts, "2025-06-16")
    again = build_evidence_manifest(facts, "2025-06-16")
    assert first["complete"] is True
    assert first["manifest_sha256"] == again["manifest_sha256"]
    assert len(first["manifest_sha256"]) == 64
    assert first["documents"][1]["date"] == "2024-01-15"
    changed = build_evidence_manifest(
        {**facts, "contract": {**facts["contract"], "content": "C"}}, "2025-06-16"
    )
    assert changed["manifest_sha256"] != first["manifest_sha256"]
