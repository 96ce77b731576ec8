"""Orthogonal routing of connections around shapes: A* over a grid of candidate lines.

Each connection leaves its source through a free port (a point on the shape's border with a
short stub straight out of it) and reaches a free port of its target. The grid's lines run along
the shapes' margins, through every port and in tracks through the free channels; a grid step
used by one sequence flow is closed to the others, so no two flows share a segment. Labels are
walls: a connection keeps `WALL_GAP` pixels from them (their borders are grid lines, so no step
jumps over one).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from .geometry import Point, Rect

MARGIN = 12.0  # clearance kept around every shape; also the length of a port's stub
TRACK = 12.0  # spacing of the extra lines through free channels
BEND = 30.0  # cost of one bend, in pixels of length
NEAR = 4.0  # lines closer than this look like one line
WALL_GAP = 2.0  # clearance kept around a label
Direction = tuple[int, int]
RIGHT, LEFT, DOWN, UP = (1, 0), (-1, 0), (0, 1), (0, -1)


@dataclass(frozen=True)
class Port:
    """A point on a shape's border, the direction leaving it, and how much using it costs."""

    point: Point
    direction: Direction
    cost: float = 0.0
    length: float = MARGIN  # of the stub: from the point to just outside the shape's margin

    @property
    def stub(self) -> Point:
        return (
            self.point[0] + self.direction[0] * self.length,
            self.point[1] + self.direction[1] * self.length,
        )


def ports_of(bounds: Rect, kind: str) -> list[Port]:
    """Candidate ports of a shape: side midpoints first, then points along the sides (activities)
    or on the slanted edges (gateways) and the rim (events), each with its stub out of the margin."""
    x, y, right, bottom = bounds.x, bounds.y, bounds.right, bounds.bottom
    cx, cy = bounds.center
    ports = [Port((right, cy), RIGHT), Port((cx, bottom), DOWN), Port((cx, y), UP), Port((x, cy), LEFT)]
    if kind == "activity":
        for offset in (15.0, 30.0):
            for sign in (-1, 1):
                ports.append(Port((right, cy + sign * offset), RIGHT, 4.0))
                ports.append(Port((x, cy + sign * offset), LEFT, 4.0))
        for offset in (25.0, 40.0):
            for sign in (-1, 1):
                ports.append(Port((cx + sign * offset, bottom), DOWN, 4.0))
                ports.append(Port((cx + sign * offset, y), UP, 4.0))
        return ports
    if kind == "plain":  # data objects and stores: a few points along each side
        for fraction in (0.25, 0.75):
            ports.append(Port((right, y + bounds.height * fraction), RIGHT, 4.0))
            ports.append(Port((x, y + bounds.height * fraction), LEFT, 4.0))
            ports.append(Port((x + bounds.width * fraction, bottom), DOWN, 4.0))
            ports.append(Port((x + bounds.width * fraction, y), UP, 4.0))
        return ports
    # a point on the diamond's edges (gateways) or the circle (events), a quarter way round
    half_w, half_h = bounds.width / 2, bounds.height / 2
    reach = 0.5 if kind == "gateway" else 0.7071
    for sx in (-1, 1):
        for sy in (-1, 1):
            px = cx + sx * half_w * reach if kind != "gateway" else cx + sx * half_w / 2
            py = cy + sy * half_h * reach if kind != "gateway" else cy + sy * half_h / 2
            vertical = (0, sy)
            horizontal = (sx, 0)
            ports.append(Port((px, py), vertical, 15.0, abs((cy + sy * half_h) - py) + MARGIN))
            ports.append(Port((px, py), horizontal, 15.0, abs((cx + sx * half_w) - px) + MARGIN))
    return ports


@dataclass
class Router:
    """Routes connections one by one over a plane whose shapes are `obstacles`."""

    obstacles: list[Rect]
    walls: list[Rect] = field(default_factory=list)  # labels: never crossed
    used_ports: set[Point] = field(default_factory=set)
    # segments taken by earlier flows: per horizontal line (y) and per vertical line (x)
    used_rows: dict[float, list[tuple[float, float]]] = field(default_factory=dict)
    used_columns: dict[float, list[tuple[float, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        grown = [r.inset(-MARGIN + 0.01) for r in self.obstacles]
        self.blocked = [(r.x, r.y, r.right, r.bottom) for r in grown]
        self._free: dict[Point, bool] = {}
        xs: set[float] = set()
        ys: set[float] = set()
        for rect in self.obstacles:
            xs.update((rect.x - MARGIN, rect.right + MARGIN, rect.center[0]))
            ys.update((rect.y - MARGIN, rect.bottom + MARGIN, rect.center[1]))
        if self.obstacles:
            whole = self.obstacles[0]
            for rect in self.obstacles[1:]:
                whole = whole.union(rect)
            self.area = whole.inset(-4 * MARGIN)
            xs.update(_tracks(self.area.x, self.area.right))
            ys.update(_tracks(self.area.y, self.area.bottom))
        else:
            self.area = Rect(0, 0, 0, 0)
        self.base_xs, self.base_ys = xs, ys
        self._close(self.walls)

    def add_walls(self, walls: Iterable[Rect]) -> None:
        """Labels placed since the router was made: closed to later connections."""
        added = list(walls)
        self.walls.extend(added)
        self._close(added)

    def _close(self, walls: Iterable[Rect]) -> None:
        for wall in walls:
            grown = wall.inset(-WALL_GAP)
            self.blocked.append((grown.x, grown.y, grown.right, grown.bottom))
            self.base_xs.update((grown.x, grown.right))
            self.base_ys.update((grown.y, grown.bottom))
        self._free.clear()

    def route(
        self,
        sources: Sequence[Port],
        targets: Sequence[Port],
        exclusive: bool = True,
    ) -> list[Point] | None:
        """The cheapest orthogonal path from a free source port to a free target port, or None.

        With `exclusive`, the ports and grid steps it uses are closed to later connections."""
        free_sources = [p for p in sources if not exclusive or p.point not in self.used_ports]
        free_targets = [p for p in targets if not exclusive or p.point not in self.used_ports]
        if not free_sources or not free_targets:
            return None
        xs = sorted(self.base_xs | {p.stub[0] for p in (*free_sources, *free_targets)})
        ys = sorted(self.base_ys | {p.stub[1] for p in (*free_sources, *free_targets)})
        path = _search(self, xs, ys, free_sources, free_targets, exclusive)
        if path is None:
            return None
        if exclusive:
            self.used_ports.update((path[0], path[-1]))
            for a, b in pairwise(path):
                if a[1] == b[1]:
                    self.used_rows.setdefault(a[1], []).append((min(a[0], b[0]), max(a[0], b[0])))
                else:
                    self.used_columns.setdefault(a[0], []).append((min(a[1], b[1]), max(a[1], b[1])))
        return path

    def taken(self, a: Point, b: Point) -> bool:
        """Whether the step a→b runs along (or within a few pixels of) a segment an earlier flow took."""
        if a[1] == b[1]:
            lines, at, low, high = self.used_rows, a[1], min(a[0], b[0]), max(a[0], b[0])
        else:
            lines, at, low, high = self.used_columns, a[0], min(a[1], b[1]), max(a[1], b[1])
        for line, spans in lines.items():
            if abs(line - at) < NEAR and any(min(high, end) - max(low, start) > 0.5 for start, end in spans):
                return True
        return False

    def free(self, point: Point) -> bool:
        known = self._free.get(point)
        if known is None:
            x, y = point
            known = not any(
                left < x < right and top < y < bottom for left, top, right, bottom in self.blocked
            )
            self._free[point] = known
        return known


def _tracks(low: float, high: float) -> list[float]:
    count = int((high - low) // TRACK)
    return [low + i * TRACK for i in range(count + 1)]


def _step_blocked(router: Router, a: Point, b: Point) -> bool:
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    return not router.free(mid) or not router.free(b)


def _search(
    router: Router,
    xs: list[float],
    ys: list[float],
    sources: Sequence[Port],
    targets: Sequence[Port],
    exclusive: bool,
) -> list[Point] | None:
    goal = {
        t.stub: t
        for t in targets
        if router.free(t.stub) and not (exclusive and router.taken(t.point, t.stub))
    }
    if not goal:
        return None
    target_points = list(goal)

    low_x = min(t[0] for t in target_points)
    high_x = max(t[0] for t in target_points)
    low_y = min(t[1] for t in target_points)
    high_y = max(t[1] for t in target_points)

    def estimate(point: Point) -> float:  # distance to the targets' box: admissible and cheap
        x, y = point
        return max(low_x - x, 0.0, x - high_x) + max(low_y - y, 0.0, y - high_y)

    heap: list[tuple[float, float, int, Point, Direction]] = []
    came: dict[tuple[Point, Direction], tuple[Point, Direction] | None] = {}
    best: dict[tuple[Point, Direction], float] = {}
    counter = 0
    for port in sources:
        stub = port.stub
        if not router.free(stub) or (exclusive and router.taken(port.point, stub)):
            continue
        state = (stub, port.direction)
        cost = port.cost + MARGIN
        if cost < best.get(state, float("inf")):
            best[state] = cost
            came[state] = None
            heapq.heappush(heap, (cost + estimate(stub), cost, counter, stub, port.direction))
            counter += 1
    start_of = {p.stub: p for p in sources}
    while heap:
        _f, cost, _n, point, heading = heapq.heappop(heap)
        if cost > best.get((point, heading), float("inf")):
            continue
        if point in goal:
            target = goal[point]
            inward = (-target.direction[0], -target.direction[1])
            if heading == inward or heading == (0, 0):
                return _assemble(came, (point, heading), start_of, target)
            # arrive, turn into the port: allowed when the turn is not a reversal
            if heading != target.direction:
                final = cost + BEND + target.cost
                if final <= best.get((point, inward), float("inf")):
                    best[(point, inward)] = final
                    came[(point, inward)] = (point, heading)
                    heapq.heappush(heap, (final, final, counter, point, inward))
                    counter += 1
            continue
        for direction in (RIGHT, LEFT, DOWN, UP):
            if direction == (-heading[0], -heading[1]):
                continue
            neighbour = _neighbour(point, direction, xs, ys)
            if neighbour is None or _step_blocked(router, point, neighbour):
                continue
            if exclusive and router.taken(point, neighbour):
                continue
            step = abs(neighbour[0] - point[0]) + abs(neighbour[1] - point[1])
            new_cost = cost + step + (BEND if direction != heading else 0.0)
            state = (neighbour, direction)
            if new_cost < best.get(state, float("inf")):
                best[state] = new_cost
                came[state] = (point, heading)
                heapq.heappush(
                    heap, (new_cost + estimate(neighbour), new_cost, counter, neighbour, direction)
                )
                counter += 1
    return None


def _neighbour(point: Point, direction: Direction, xs: list[float], ys: list[float]) -> Point | None:
    x, y = point
    if direction == RIGHT:
        i = bisect_right(xs, x + 1e-6)
        return (xs[i], y) if i < len(xs) else None
    if direction == LEFT:
        i = bisect_left(xs, x - 1e-6) - 1
        return (xs[i], y) if i >= 0 else None
    if direction == DOWN:
        i = bisect_right(ys, y + 1e-6)
        return (x, ys[i]) if i < len(ys) else None
    i = bisect_left(ys, y - 1e-6) - 1
    return (x, ys[i]) if i >= 0 else None


def _assemble(
    came: dict[tuple[Point, Direction], tuple[Point, Direction] | None],
    state: tuple[Point, Direction],
    start_of: dict[Point, Port],
    target: Port,
) -> list[Point]:
    points: list[Point] = [target.point]
    current: tuple[Point, Direction] | None = state
    while current is not None:
        if points[-1] != current[0]:
            points.append(current[0])
        previous = came.get(current)
        if previous is None:
            break
        current = previous
    start = start_of[points[-1]]
    points.append(start.point)
    points.reverse()
    return simplify(points)


def simplify(points: Iterable[Point]) -> list[Point]:
    """Drop repeated points and the middle of three collinear points."""
    result: list[Point] = []
    for point in points:
        if result and result[-1] == point:
            continue
        if len(result) >= 2:
            a, b = result[-2], result[-1]
            if (a[0] == b[0] == point[0]) or (a[1] == b[1] == point[1]):
                result[-1] = point
                continue
        result.append(point)
    return result
