"""Days-past-due (DPD) buckets and the regulatory loan class derived from DPD."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

__all__ = [
    "Bucket",
    "LoanClass",
    "bucket_info",
    "days_past_due",
    "dpd_bucket",
    "loan_class",
]


class Bucket(StrEnum):
    """Collection bucket by DPD (Chinese banking usage)."""

    CURRENT = "current"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M3_PLUS = "M3+"

    @property
    def label_zh(self) -> str:
        """Chinese label for reports."""
        return _BUCKET_LABELS[self]


class LoanClass(StrEnum):
    """Five-category loan classification as commonly applied to consumer credit by DPD."""

    NORMAL = "normal"
    SPECIAL_MENTION = "special_mention"
    SUBSTANDARD = "substandard"
    DOUBTFUL = "doubtful"
    LOSS = "loss"

    @property
    def label_zh(self) -> str:
        """Chinese label (正常/关注/次级/可疑/损失)."""
        return _CLASS_LABELS[self]


_BUCKET_LABELS = {
    Bucket.CURRENT: "未逾期",
    Bucket.M1: "M1（逾期1–30天）",
    Bucket.M2: "M2（逾期31–60天）",
    Bucket.M3: "M3（逾期61–90天）",
    Bucket.M3_PLUS: "M3+（逾期91天及以上）",
}
_CLASS_LABELS = {
    LoanClass.NORMAL: "正常",
    LoanClass.SPECIAL_MENTION: "关注",
    LoanClass.SUBSTANDARD: "次级",
    LoanClass.DOUBTFUL: "可疑",
    LoanClass.LOSS: "损失",
}

# Upper DPD bound (inclusive) of each bucket / class; the last entry is open-ended.
_BUCKET_BOUNDS: tuple[tuple[int, Bucket], ...] = (
    (0, Bucket.CURRENT),
    (30, Bucket.M1),
    (60, Bucket.M2),
    (90, Bucket.M3),
)
_CLASS_BOUNDS: tuple[tuple[int, LoanClass], ...] = (
    (0, LoanClass.NORMAL),
    (90, LoanClass.SPECIAL_MENTION),
    (120, LoanClass.SUBSTANDARD),
    (180, LoanClass.DOUBTFUL),
)


def _check_dpd(dpd: int) -> None:
    if isinstance(dpd, bool) or not isinstance(dpd, int):
        raise TypeError(f"dpd must be an int, got {type(dpd).__name__}")
    if dpd < 0:
        raise ValueError(f"dpd must not be negative, got {dpd}")


def days_past_due(due_date: date, as_of: date) -> int:
    """Days past due on ``as_of`` for an amount due on ``due_date`` (0 if not yet overdue).

    The due date itself is not overdue; the day after it is DPD 1.
    """
    return max(0, (as_of - due_date).days)


def dpd_bucket(dpd: int) -> Bucket:
    """Bucket for a DPD: 0 current, 1–30 M1, 31–60 M2, 61–90 M3, 91+ M3+."""
    _check_dpd(dpd)
    for upper, bucket in _BUCKET_BOUNDS:
        if dpd <= upper:
            return bucket
    return Bucket.M3_PLUS


def loan_class(dpd: int) -> LoanClass:
    """Loan class for a DPD: ≤90 special mention, 91–120 substandard, 121–180 doubtful, >180 loss."""
    _check_dpd(dpd)
    for upper, cls in _CLASS_BOUNDS:
        if dpd <= upper:
            return cls
    return LoanClass.LOSS


def bucket_info(dpd: int) -> dict[str, object]:
    """Script-friendly summary: ``{"dpd", "bucket", "bucket_zh", "loan_class", "loan_class_zh"}``."""
    bucket = dpd_bucket(dpd)
    cls = loan_class(dpd)
    return {
        "dpd": dpd,
        "bucket": bucket.value,
        "bucket_zh": bucket.label_zh,
        "loan_class": cls.value,
        "loan_class_zh": cls.label_zh,
    }
