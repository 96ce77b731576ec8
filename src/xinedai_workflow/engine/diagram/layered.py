"""Layered (Sugiyama-style) placement of one process's flow nodes, left to right, in lane bands.

Cycles are broken at the back edges of a depth-first walk from the start events; each node's
layer is its longest path from a source; within its lane each node takes the row of its main
predecessor when free (so the main line runs straight) or the nearest free row below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

LANE_NONE = ""


@dataclass
class Graph:
    """Nodes (in document order), their lanes, and the flows between them (source, target)."""

    nodes: list[str]
    edges: list[tuple[str, str]]
    lane_of: dict[str, str] = field(default_factory=dict)
    lanes: list[str] = field(default_factory=list)  # top to bottom


@dataclass
class Placement:
    layer: dict[str, int]
    row: dict[str, int]  # within the node's lane
    rows_per_lane: dict[str, int]
    back_edges: set[tuple[str, str]]


def back_edges(graph: Graph) -> set[tuple[str, str]]:
    """Edges closing a cycle, found by depth-first walks from the sources in document order."""
    successors: dict[str, list[str]] = {n: [] for n in graph.nodes}
    incoming: dict[str, int] = dict.fromkeys(graph.nodes, 0)
    for source, target in graph.edges:
        if source in successors and target in successors:
            successors[source].append(target)
            incoming[target] += 1
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    found: set[tuple[str, str]] = set()
    roots = [n for n in graph.nodes if incoming[n] == 0] + graph.nodes
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, index = stack[-1]
            if index < len(successors[node]):
                stack[-1] = (node, index + 1)
                nxt = successors[node][index]
                if state.get(nxt) == 1:
                    found.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                stack.pop()
    return found


def place(graph: Graph) -> Placement:
    """Layers and rows for every node of `graph`."""
    backs = back_edges(graph)
    forward = [(s, t) for s, t in graph.edges if (s, t) not in backs and s != t]
    predecessors: dict[str, list[str]] = {n: [] for n in graph.nodes}
    successors: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for source, target in forward:
        if source in predecessors and target in predecessors:
            predecessors[target].append(source)
            successors[source].append(target)
    order = _topological(graph.nodes, predecessors, successors)
    layer: dict[str, int] = {}
    for node in order:
        layer[node] = max((layer[p] + 1 for p in predecessors[node]), default=0)
    _pull_right(order, layer, predecessors, successors)
    connected = {n for edge in graph.edges for n in edge}
    isolated = [n for n in graph.nodes if n not in connected]
    row: dict[str, int] = {}
    taken: dict[tuple[str, int], set[int]] = {}  # (lane, row) → layers used
    for node in sorted((n for n in order if n in connected), key=lambda n: (layer[n], order.index(n))):
        lane = graph.lane_of.get(node, LANE_NONE)
        same_lane = [p for p in predecessors[node] if graph.lane_of.get(p, LANE_NONE) == lane and p in row]
        wanted = min((row[p] for p in same_lane), default=0)
        chosen = wanted
        while layer[node] in taken.get((lane, chosen), set()):
            chosen += 1
        row[node] = chosen
        taken.setdefault((lane, chosen), set()).add(layer[node])
    rows_per_lane: dict[str, int] = {}
    for node, value in row.items():
        lane = graph.lane_of.get(node, LANE_NONE)
        rows_per_lane[lane] = max(rows_per_lane.get(lane, 0), value + 1)
    by_lane: dict[str, list[str]] = {}
    for node in isolated:
        by_lane.setdefault(graph.lane_of.get(node, LANE_NONE), []).append(node)
    for lane, nodes in by_lane.items():
        extra = rows_per_lane.get(lane, 0)
        for index, node in enumerate(nodes):
            layer[node] = index
            row[node] = extra
        rows_per_lane[lane] = extra + 1
    return Placement(layer, row, rows_per_lane, backs)


def _topological(
    nodes: Sequence[str], predecessors: dict[str, list[str]], successors: dict[str, list[str]]
) -> list[str]:
    waiting = {n: len(predecessors[n]) for n in nodes}
    ready = [n for n in nodes if waiting[n] == 0]
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for nxt in successors[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    order.extend(n for n in nodes if n not in order)  # unreachable leftovers keep document order
    return order


def _pull_right(
    order: list[str],
    layer: dict[str, int],
    predecessors: dict[str, list[str]],
    successors: dict[str, list[str]],
) -> None:
    """Move a source-less start of a side branch next to its first successor (shorter flows)."""
    for node in reversed(order):
        if not predecessors[node] and successors[node]:
            layer[node] = max(layer[node], min(layer[s] for s in successors[node]) - 1)
