"""Plane geometry for BPMN DI: rectangles, polylines and their intersections (pixels, y down)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box: left `x`, top `y`, `width`, `height`."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> Point:
        return (self.x + self.width / 2, self.y + self.height / 2)

    def inset(self, by: float) -> Rect:
        """The box shrunk by `by` on every side (grown when `by` is negative)."""
        return Rect(self.x + by, self.y + by, max(0.0, self.width - 2 * by), max(0.0, self.height - 2 * by))

    def overlaps(self, other: Rect, tolerance: float = 0.5) -> bool:
        """True when the interiors intersect by more than `tolerance` in both directions."""
        return (
            min(self.right, other.right) - max(self.x, other.x) > tolerance
            and min(self.bottom, other.bottom) - max(self.y, other.y) > tolerance
        )

    def contains(self, other: Rect, tolerance: float = 0.5) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.bottom <= self.bottom + tolerance
        )

    def contains_point(self, point: Point, tolerance: float = 0.0) -> bool:
        return (
            self.x - tolerance <= point[0] <= self.right + tolerance
            and self.y - tolerance <= point[1] <= self.bottom + tolerance
        )

    def union(self, other: Rect) -> Rect:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)


def segment_crosses_rect(a: Point, b: Point, rect: Rect) -> bool:
    """Whether the segment a→b enters the interior of `rect` (Liang–Barsky clipping)."""
    if rect.width <= 0 or rect.height <= 0:
        return False
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in (
        (-dx, a[0] - rect.x),
        (dx, rect.right - a[0]),
        (-dy, a[1] - rect.y),
        (dy, rect.bottom - a[1]),
    ):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return t1 - t0 > 1e-9


def polyline_crosses_rect(points: Sequence[Point], rect: Rect) -> bool:
    return any(segment_crosses_rect(points[i], points[i + 1], rect) for i in range(len(points) - 1))


def shared_length(a1: Point, a2: Point, b1: Point, b2: Point, tolerance: float = 1.0) -> float:
    """How long two segments run on top of each other (0 unless collinear within `tolerance`)."""
    ax, ay = a2[0] - a1[0], a2[1] - a1[1]
    length = (ax * ax + ay * ay) ** 0.5
    if length < 1e-9:
        return 0.0
    ux, uy = ax / length, ay / length
    for point in (b1, b2):  # both ends of b must lie on a's line
        if abs((point[0] - a1[0]) * uy - (point[1] - a1[1]) * ux) > tolerance:
            return 0.0
    s1 = (b1[0] - a1[0]) * ux + (b1[1] - a1[1]) * uy
    s2 = (b2[0] - a1[0]) * ux + (b2[1] - a1[1]) * uy
    low, high = max(0.0, min(s1, s2)), min(length, max(s1, s2))
    return max(0.0, high - low)


def polylines_shared_length(first: Sequence[Point], second: Sequence[Point]) -> float:
    """The longest stretch two polylines share."""
    best = 0.0
    for i in range(len(first) - 1):
        for j in range(len(second) - 1):
            best = max(best, shared_length(first[i], first[i + 1], second[j], second[j + 1]))
    return best


def waypoints_mid(points: Sequence[Point]) -> Point:
    """Where bpmn-js centres a flow's label when the DI gives none (`getFlowLabelPosition`)."""
    if not points:
        return (0.0, 0.0)
    if len(points) == 1:
        return points[0]
    mid = len(points) / 2 - 1
    first = points[max(0, int(mid // 1))]
    second = points[min(len(points) - 1, -int(-(mid + 0.01) // 1))]
    return ((first[0] + second[0]) / 2, (first[1] + second[1]) / 2)
