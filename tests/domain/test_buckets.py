from datetime import date

import pytest

from xinedai_workflow.domain.buckets import (
    Bucket,
    LoanClass,
    bucket_info,
    days_past_due,
    dpd_bucket,
    loan_class,
)


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, Bucket.CURRENT),
        (1, Bucket.M1),
        (30, Bucket.M1),
        (31, Bucket.M2),
        (60, Bucket.M2),
        (61, Bucket.M3),
        (90, Bucket.M3),
        (91, Bucket.M3_PLUS),
        (1000, Bucket.M3_PLUS),
    ],
)
def test_bucket_boundaries(dpd: int, bucket: Bucket) -> None:
    assert dpd_bucket(dpd) is bucket


@pytest.mark.parametrize(
    ("dpd", "cls"),
    [
        (0, LoanClass.NORMAL),
        (1, LoanClass.SPECIAL_MENTION),
        (90, LoanClass.SPECIAL_MENTION),
        (91, LoanClass.SUBSTANDARD),
        (120, LoanClass.SUBSTANDARD),
        (121, LoanClass.DOUBTFUL),
        (180, LoanClass.DOUBTFUL),
        (181, LoanClass.LOSS),
    ],
)
def test_loan_class_boundaries(dpd: int, cls: LoanClass) -> None:
    assert loan_class(dpd) is cls


def test_invalid_dpd() -> None:
    with pytest.raises(ValueError):
        dpd_bucket(-1)
    with pytest.raises(TypeError):
        loan_class(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dpd_bucket(True)


def test_days_past_due_counts_from_the_day_after_due() -> None:
    due = date(2026, 1, 31)
    assert days_past_due(due, date(2026, 1, 30)) == 0
    assert days_past_due(due, due) == 0
    assert days_past_due(due, date(2026, 2, 1)) == 1
    assert days_past_due(due, date(2026, 3, 2)) == 30


def test_bucket_info_is_script_friendly() -> None:
    assert bucket_info(45) == {
        "dpd": 45,
        "bucket": "M2",
        "bucket_zh": "M2（逾期31–60天）",
        "loan_class": "special_mention",
        "loan_class_zh": "关注",
    }
    assert Bucket.M3_PLUS == "M3+"
