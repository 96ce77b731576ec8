"""Evidence package (证据目录) for litigation: an ordered, hashed manifest and what is missing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from xinedai_workflow.domain.interest import ALGORITHM_VERSION

MANIFEST_VERSION = "1"


class EvidenceError(ValueError):
    """Loan facts that cannot be turned into a manifest."""


class EvidenceKind(StrEnum):
    """Kinds of documents in the package, in catalogue order."""

    BORROWER_ID = "borrower_id"
    CONTRACT = "contract"
    E_SIGNATURE = "e_signature"
    CONSENT = "consent"
    DISBURSEMENT = "disbursement"
    REPAYMENT_HISTORY = "repayment_history"
    DEMAND_LETTER = "demand_letter"
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"
    COMPUTATION = "computation"
    OTHER = "other"


# title (zh), title (en), purpose of proof (证明目的)
_META: dict[EvidenceKind, tuple[str, str, str]] = {
    EvidenceKind.BORROWER_ID: ("借款人身份证明", "Borrower identity document", "证明被告的主体身份"),
    EvidenceKind.CONTRACT: (
        "个人借款合同",
        "Signed loan contract",
        "证明借款合同关系成立并生效，及约定的借款金额、利率、罚息、复利和还款方式",
    ),
    EvidenceKind.E_SIGNATURE: (
        "电子签名记录",
        "E-signature record",
        "证明借款合同由借款人本人以电子签名方式签署",
    ),
    EvidenceKind.CONSENT: (
        "借款人授权及同意记录",
        "Borrower consent record",
        "证明借款人已阅读并同意合同条款及相关授权",
    ),
    EvidenceKind.DISBURSEMENT: ("贷款发放凭证", "Disbursement proof", "证明原告已依约发放贷款"),
    EvidenceKind.REPAYMENT_HISTORY: ("还款记录", "Repayment history", "证明借款人的还款情况及逾期事实"),
    EvidenceKind.DEMAND_LETTER: (
        "催款通知书及邮寄送达凭证",
        "Demand letter with proof of delivery",
        "证明原告已书面催告借款人还款且已送达",
    ),
    EvidenceKind.SMS: ("短信提醒记录", "SMS reminder record", "证明原告已提醒借款人还款"),
    EvidenceKind.EMAIL: ("电子邮件提醒记录", "E-mail reminder record", "证明原告已提醒借款人还款"),
    EvidenceKind.CALL: ("电话沟通记录及录音", "Call record and recording", "证明原告已与借款人沟通还款事宜"),
    EvidenceKind.COMPUTATION: (
        "欠款及利息、罚息、复利计算明细",
        "Worked computation of principal, interest, penalty and compound interest",
        "证明截至计算日的欠款金额及计算方法，并已核对年利率24%的上限",
    ),
    EvidenceKind.OTHER: ("其他材料", "Other material", "补充证明相关事实"),
}

REQUIRED_KINDS: tuple[EvidenceKind, ...] = (
    EvidenceKind.BORROWER_ID,
    EvidenceKind.CONTRACT,
    EvidenceKind.DISBURSEMENT,
    EvidenceKind.REPAYMENT_HISTORY,
    EvidenceKind.COMPUTATION,
    EvidenceKind.DEMAND_LETTER,
)
_NOTICE_KINDS = (EvidenceKind.DEMAND_LETTER, EvidenceKind.SMS, EvidenceKind.EMAIL, EvidenceKind.CALL)


def sha256_hex(content: bytes | str) -> str:
    """SHA-256 of bytes, or of a string's UTF-8 encoding."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, no spaces) so equal data hashes equally."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class RecordRef:
    """A document held by another system, e.g. ``RecordRef("C-123", "core banking")``."""

    reference: str
    system: str
    date: date | None = None
    content: bytes | str | None = None
    sha256: str | None = None  # when the content lives elsewhere but its hash is known
    description: str = ""


@dataclass(frozen=True)
class NoticeRecord:
    """A notice sent to the borrower through the outbox, with its delivery proof if any."""

    message_id: str
    kind: EvidenceKind  # DEMAND_LETTER, SMS, EMAIL or CALL
    sent_on: date
    delivery_proof: str | None = None  # tracking number, gateway receipt, recording id
    carrier: str = ""  # e.g. "EMS"
    delivered_on: date | None = None
    content: bytes | str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _NOTICE_KINDS:
            raise EvidenceError(f"notice kind must be one of {[k.value for k in _NOTICE_KINDS]}")


@dataclass(frozen=True)
class LoanFacts:
    """Everything known about a loan that can go into its evidence package."""

    loan_id: str
    borrower_id: RecordRef | None = None
    contract: RecordRef | None = None
    e_signatures: tuple[RecordRef, ...] = ()
    consents: tuple[RecordRef, ...] = ()
    disbursement: RecordRef | None = None
    repayment_history: RecordRef | None = None
    notices: tuple[NoticeRecord, ...] = ()
    computation: Mapping[str, Any] | None = None  # ClaimResult.to_dict()
    computed_on: date | None = None
    others: tuple[RecordRef, ...] = ()


@dataclass(frozen=True)
class EvidenceDocument:
    """One entry of the manifest."""

    seq: int
    kind: EvidenceKind
    title_zh: str
    title_en: str
    purpose_zh: str
    source: str
    reference: str
    date: date | None
    sha256: str | None
    size: int | None

    @property
    def code(self) -> str:
        """Catalogue number such as ``E03``."""
        return f"E{self.seq:02d}"


@dataclass(frozen=True)
class Finding:
    """A missing required document (or, as a warning, a weakness of the package)."""

    kind: EvidenceKind
    title_zh: str
    title_en: str
    reason: str


@dataclass(frozen=True)
class EvidenceManifest:
    """The ordered document list; complete when nothing required is missing."""

    loan_id: str
    generated_on: date
    documents: tuple[EvidenceDocument, ...]
    missing: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    @property
    def complete(self) -> bool:
        """True when every required document is present."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view including ``manifest_sha256`` over the document list."""
        docs = [
            {
                "seq": d.seq,
                "code": d.code,
                "kind": d.kind.value,
                "title_zh": d.title_zh,
                "title_en": d.title_en,
                "purpose_zh": d.purpose_zh,
                "source": d.source,
                "reference": d.reference,
                "date": None if d.date is None else d.date.isoformat(),
                "sha256": d.sha256,
                "size": d.size,
            }
            for d in self.documents
        ]

        def findings(items: Sequence[Finding]) -> list[dict[str, str]]:
            return [
                {"kind": f.kind.value, "title_zh": f.title_zh, "title_en": f.title_en, "reason": f.reason}
                for f in items
            ]

        return {
            "manifest_version": MANIFEST_VERSION,
            "loan_id": self.loan_id,
            "generated_on": self.generated_on.isoformat(),
            "complete": self.complete,
            "documents": docs,
            "missing": findings(self.missing),
            "warnings": findings(self.warnings),
            "manifest_sha256": sha256_hex(canonical_json({"loan_id": self.loan_id, "documents": docs})),
        }


def _finding(kind: EvidenceKind, reason: str) -> Finding:
    title_zh, title_en, _ = _META[kind]
    return Finding(kind, title_zh, title_en, reason)


def _notice_source(n: NoticeRecord) -> str:
    source = f"outbox message {n.message_id}"
    if n.delivery_proof and n.kind is EvidenceKind.DEMAND_LETTER:
        source += f", registered mail tracking {(n.carrier + ' ') if n.carrier else ''}{n.delivery_proof}"
    elif n.delivery_proof:
        source += f", delivery proof {n.delivery_proof}"
    if n.delivered_on:
        source += f", delivered {n.delivered_on.isoformat()}"
    return source


def build_evidence_package(facts: LoanFacts, *, generated_on: date) -> EvidenceManifest:
    """Order and hash the loan's documents and list missing required ones.

    Required: borrower ID, contract, disbursement proof, repayment history, the computation and at
    least one demand letter with delivery proof. Missing e-signature/consent records, reminders
    without delivery proof and documents without content or hash are reported as warnings.
    """
    # (kind, source, reference, date, content, known sha256)
    rows: list[tuple[EvidenceKind, str, str, date | None, bytes | str | None, str | None]] = []

    def add_ref(kind: EvidenceKind, ref: RecordRef | None) -> None:
        if ref is not None:
            source = f"{ref.system}: {ref.reference}" + (f" ({ref.description})" if ref.description else "")
            rows.append((kind, source, ref.reference, ref.date, ref.content, ref.sha256))

    add_ref(EvidenceKind.BORROWER_ID, facts.borrower_id)
    add_ref(EvidenceKind.CONTRACT, facts.contract)
    for ref in facts.e_signatures:
        add_ref(EvidenceKind.E_SIGNATURE, ref)
    for ref in facts.consents:
        add_ref(EvidenceKind.CONSENT, ref)
    add_ref(EvidenceKind.DISBURSEMENT, facts.disbursement)
    add_ref(EvidenceKind.REPAYMENT_HISTORY, facts.repayment_history)
    for n in sorted(facts.notices, key=lambda n: (n.sent_on, n.message_id)):
        rows.append((n.kind, _notice_source(n), n.message_id, n.sent_on, n.content, None))
    if facts.computation is not None:
        algorithm = str(
            facts.computation.get("algorithm", f"xinedai_workflow.domain.interest v{ALGORITHM_VERSION}")
        )
        as_of = facts.computation.get("as_of")
        when = facts.computed_on or (date.fromisoformat(as_of) if isinstance(as_of, str) else None)
        rows.append(
            (
                EvidenceKind.COMPUTATION,
                f"computed by {algorithm}",
                f"as of {as_of}",
                when,
                canonical_json(facts.computation),
                None,
            )
        )
    for ref in facts.others:
        add_ref(EvidenceKind.OTHER, ref)

    documents: list[EvidenceDocument] = []
    warnings: list[Finding] = []
    for seq, (kind, source, reference, when, content, known_hash) in enumerate(rows, 1):
        title_zh, title_en, purpose = _META[kind]
        digest = sha256_hex(content) if content is not None else known_hash
        size = (
            None if content is None else len(content.encode("utf-8") if isinstance(content, str) else content)
        )
        if content is not None and known_hash is not None and digest != known_hash.lower():
            raise EvidenceError(f"{reference}: content does not match the recorded sha256")
        if digest is None:
            warnings.append(_finding(kind, f"{reference}: no content or hash; attach the original"))
        documents.append(
            EvidenceDocument(seq, kind, title_zh, title_en, purpose, source, reference, when, digest, size)
        )

    present = {d.kind for d in documents}
    missing = [_finding(k, "not provided") for k in REQUIRED_KINDS if k not in present]
    letters = [n for n in facts.notices if n.kind is EvidenceKind.DEMAND_LETTER]
    if letters and not any(n.delivery_proof for n in letters):
        missing.append(_finding(EvidenceKind.DEMAND_LETTER, "no demand letter has delivery proof"))
    for kind in (EvidenceKind.E_SIGNATURE, EvidenceKind.CONSENT):
        if kind not in present:
            warnings.append(_finding(kind, "recommended for an online contract but not provided"))
    for n in facts.notices:
        if not n.delivery_proof:
            warnings.append(_finding(n.kind, f"{n.message_id}: no delivery proof"))
    return EvidenceManifest(facts.loan_id, generated_on, tuple(documents), tuple(missing), tuple(warnings))


def _ref(data: Mapping[str, Any] | None) -> RecordRef | None:
    if data is None:
        return None
    return RecordRef(
        reference=str(data["reference"]),
        system=str(data["system"]),
        date=_opt_date(data.get("date")),
        content=data.get("content"),
        sha256=data.get("sha256"),
        description=str(data.get("description", "")),
    )


def _opt_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _req_date(value: Any, what: str) -> date:
    when = _opt_date(value)
    if when is None:
        raise EvidenceError(f"{what} is required")
    return when


def build_evidence_manifest(facts: Mapping[str, Any], generated_on: date | str) -> dict[str, Any]:
    """Script-friendly form of :func:`build_evidence_package` taking and returning plain dicts.

    Record refs are ``{"reference", "system", "date"?, "content"?, "sha256"?, "description"?}``;
    notices are ``{"message_id", "kind", "sent_on", "delivery_proof"?, "carrier"?, "delivered_on"?,
    "content"?}``.
    """
    loan_facts = LoanFacts(
        loan_id=str(facts["loan_id"]),
        borrower_id=_ref(facts.get("borrower_id")),
        contract=_ref(facts.get("contract")),
        e_signatures=tuple(r for r in map(_ref, facts.get("e_signatures", ())) if r),
        consents=tuple(r for r in map(_ref, facts.get("consents", ())) if r),
        disbursement=_ref(facts.get("disbursement")),
        repayment_history=_ref(facts.get("repayment_history")),
        notices=tuple(
            NoticeRecord(
                message_id=str(n["message_id"]),
                kind=EvidenceKind(n["kind"]),
                sent_on=_req_date(n["sent_on"], "sent_on"),
                delivery_proof=n.get("delivery_proof"),
                carrier=str(n.get("carrier", "")),
                delivered_on=_opt_date(n.get("delivered_on")),
                content=n.get("content"),
            )
            for n in facts.get("notices", ())
        ),
        computation=facts.get("computation"),
        computed_on=_opt_date(facts.get("computed_on")),
        others=tuple(r for r in map(_ref, facts.get("others", ())) if r),
    )
    return build_evidence_package(loan_facts, generated_on=_req_date(generated_on, "generated_on")).to_dict()
