"""Champion/challenger: which strategy variant a loan gets, and whether variants' cure rates differ.

A split gives shares to versions of one process key (``"3:80,4:20"``: version 3 takes 80% of the
new loans, version 4 the other 20%). A loan's variant comes from a stable hash of its id, so the
same loan lands in the same variant on every API replica, after restarts and on a re-opened case.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

BUCKETS = 10_000
SALT = "xinedai-strategy-split"


@dataclass(frozen=True)
class Share:
    version: int
    weight: int

    @property
    def label(self) -> str:
        return f"v{self.version}"


@dataclass(frozen=True)
class StrategySplit:
    """Shares between versions of one process key (weights need not add up to 100)."""

    shares: tuple[Share, ...]

    def share_of(self, loan_id: str) -> Share:
        """The variant of `loan_id` (stable)."""
        point = stable_bucket(loan_id) * sum(s.weight for s in self.shares)
        upto = 0
        for share in self.shares:
            upto += share.weight * BUCKETS
            if point < upto:
                return share
        return self.shares[-1]


def stable_bucket(loan_id: str) -> int:
    """0..BUCKETS-1 from sha256 of the loan id (not Python's randomised hash)."""
    digest = hashlib.sha256(f"{SALT}:{loan_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def parse_split(text: str) -> StrategySplit:
    """``"3:80,4:20"`` → a split; ValueError naming what is wrong."""
    shares = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        version, sep, weight = part.partition(":")
        if not sep or not version.strip().isdigit() or not weight.strip().isdigit():
            raise ValueError(f"{part!r}: expected VERSION:SHARE with whole numbers, e.g. 3:80")
        shares.append(Share(int(version), int(weight)))
    if len(shares) < 2:
        raise ValueError("a split needs at least two versions")
    if len({s.version for s in shares}) != len(shares):
        raise ValueError("each version may appear once")
    if any(s.version < 1 for s in shares) or any(s.weight < 1 for s in shares):
        raise ValueError("versions and shares must be at least 1")
    return StrategySplit(tuple(shares))


@dataclass(frozen=True)
class ProportionTest:
    """Two-proportion z-test (pooled), two-sided."""

    difference: float
    z: float
    p_value: float
    ci95: tuple[float, float]


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> ProportionTest | None:
    """Compare x2/n2 with x1/n1; None when a sample is empty or both rates are 0 or 1."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (p2 - p1) / se
    half = 1.96 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return ProportionTest(p2 - p1, z, math.erfc(abs(z) / math.sqrt(2)), (p2 - p1 - half, p2 - p1 + half))
