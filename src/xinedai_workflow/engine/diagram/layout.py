"""The automatic layouter: new DI for every plane of a BPMN document, semantics untouched.

The top level shows the pool (if any) with its lanes as horizontal bands and every subprocess
collapsed; each subprocess gets a plane of its own, laid out the same way (with its own lanes if
it has a laneSet). Nodes are placed by `layered.place`, flows routed by `routing.Router`, labels
put where they cover neither a shape nor another label.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from lxml import etree

from .geometry import Point, Rect, polyline_crosses_rect
from .labels import drilldown_box, text_size
from .layered import LANE_NONE, Graph, place
from .model import (
    ARTIFACTS,
    BPMN,
    BPMNDI,
    DATA_ASSOCIATIONS,
    DC,
    DI,
    EVENTS,
    EXTERNAL_LABELS,
    FLOW_NODES,
    GATEWAYS,
    SUBPROCESSES,
    Semantics,
    local,
)
from .routing import DOWN, LEFT, RIGHT, UP, Port, Router, ports_of

H_GAP = 90.0  # between layers
V_GAP = 80.0  # between rows
ROW = 80.0  # the tallest node
FLOW_EDGE_KINDS = frozenset({"sequenceFlow", "messageFlow"})
POOL_HEADER = 30.0
LANE_HEADER = 30.0
PAD = 60.0  # inside a band, around the nodes
ARTIFACT_STRIP = 110.0
BOUNDARY_SPACING = 100.0  # between the centres of boundary events on one activity


@dataclass
class DrawnShape:
    bounds: Rect
    label: Rect | None = None
    expanded: bool | None = None
    horizontal: bool = False


@dataclass
class DrawnEdge:
    points: list[Point]
    label: Rect | None = None


@dataclass
class DrawnPlane:
    element_id: str
    shapes: dict[str, DrawnShape] = field(default_factory=dict)
    edges: dict[str, DrawnEdge] = field(default_factory=dict)


def size_of(kind: str, boundary_count: int = 0, text: str = "") -> tuple[float, float]:
    if kind in EVENTS:
        return (36.0, 36.0)
    if kind in GATEWAYS:
        return (50.0, 50.0)
    if kind == "dataObjectReference":
        return (36.0, 50.0)
    if kind == "dataStoreReference":
        return (50.0, 50.0)
    if kind == "textAnnotation":
        width, height = text_size(text, 150.0)
        return (max(100.0, width + 10), max(30.0, height + 10))
    return (max(100.0, BOUNDARY_SPACING * boundary_count), ROW)


def port_kind(kind: str) -> str:
    if kind in ARTIFACTS:
        return "plain"
    if kind in GATEWAYS:
        return "gateway"
    if kind in EVENTS:
        return "event"
    return "activity"


class _PlaneLayout:
    """Lays out one plane: the containers it shows (a collaboration's processes, or one subprocess)."""

    def __init__(self, semantics: Semantics, element_id: str) -> None:
        self.semantics = semantics
        self.drawn = DrawnPlane(element_id)
        self.labels: dict[str, Rect] = {}
        self.reserved: list[Rect] = []  # drill-down buttons bpmn-js adds below collapsed subprocesses
        self.back: set[tuple[str, str]] = set()
        self.layer: dict[str, int] = {}

    # -- placing -------------------------------------------------------------------------------
    def run(self) -> DrawnPlane:
        node = self.semantics.by_id[self.drawn.element_id]
        if local(node) == "collaboration":
            top = 0.0
            for participant in node.iterfind(f"{{{BPMN}}}participant"):
                process = self.semantics.by_id.get(participant.get("processRef", ""))
                pool_id = participant.get("id", "")
                if process is None:
                    self.drawn.shapes[pool_id] = DrawnShape(Rect(0, top, 600, 100), horizontal=True)
                    top += 130
                    continue
                block = self._block(process, POOL_HEADER, top)
                self.drawn.shapes[pool_id] = DrawnShape(
                    Rect(0, top, block.right, block.bottom - top), horizontal=True
                )
                top = block.bottom + 30
        else:
            self._block(node, 0.0, 0.0)
        self._route_flows()
        self._place_flow_labels()
        self._route_associations()
        self._fit_bands()
        return self.drawn

    def _block(self, container: etree._Element, left: float, top: float) -> Rect:
        """Place the nodes and artifacts of one container with `left`, `top` as its corner."""
        children = list(self.semantics.children(container))
        nodes = [c.get("id", "") for c in children if local(c) in FLOW_NODES and local(c) != "boundaryEvent"]
        boundaries = [c.get("id", "") for c in children if local(c) == "boundaryEvent"]
        artifacts = [c.get("id", "") for c in children if local(c) in ARTIFACTS]
        host = {b: self.semantics.boundary_host(b) or "" for b in boundaries}
        per_host: dict[str, list[str]] = {}
        for boundary in boundaries:
            per_host.setdefault(host[boundary], []).append(boundary)
        edges: list[tuple[str, str]] = []
        for child in children:
            if local(child) == "sequenceFlow":
                source, target = child.get("sourceRef", ""), child.get("targetRef", "")
                edges.append((host.get(source, source), host.get(target, target)))
        lanes = [
            lane for lane in self.semantics.lanes(container) if lane.find(f"{{{BPMN}}}childLaneSet") is None
        ]
        lane_ids = [lane.get("id", "") for lane in lanes]
        lane_of = self._lane_of(lanes, nodes, edges)
        graph = Graph(nodes, edges, lane_of, lane_ids)
        placement = place(graph)
        self.back.update(placement.back_edges)
        self.layer.update(placement.layer)
        sizes = {
            n: size_of(self.semantics.kind(n), len(per_host.get(n, [])), self.semantics.name(n))
            for n in nodes
        }
        layers = max(placement.layer.values(), default=0) + 1
        widths = [0.0] * layers
        for n in nodes:
            widths[placement.layer[n]] = max(widths[placement.layer[n]], sizes[n][0])
        header = LANE_HEADER if lanes else 0.0
        x = left + header + PAD
        column_x: list[float] = []
        for width in widths:
            column_x.append(x)
            x += width + H_GAP
        right = x - H_GAP + PAD
        strip = ARTIFACT_STRIP if artifacts else 0.0
        band_top: dict[str, float] = {}
        y = top
        bands = lane_ids or [LANE_NONE]
        band_rows: dict[str, int] = {}
        for index, lane in enumerate(bands):
            band_top[lane] = y
            rows = max(1, placement.rows_per_lane.get(lane, 0))
            band_rows[lane] = rows
            y += (strip if index == 0 else 0.0) + PAD + rows * (ROW + V_GAP) - V_GAP + PAD
        bottom = y
        for n in nodes:
            lane = lane_of.get(n, LANE_NONE) if lanes else LANE_NONE
            row_top = band_top[lane] + (strip if lane == bands[0] else 0.0) + PAD
            cy = row_top + placement.row[n] * (ROW + V_GAP) + ROW / 2
            layer = placement.layer[n]
            cx = column_x[layer] + widths[layer] / 2
            w, h = sizes[n]
            shape = DrawnShape(Rect(cx - w / 2, cy - h / 2, w, h))
            if self.semantics.kind(n) in SUBPROCESSES:
                shape.expanded = False
                if has_plane(self.semantics.by_id[n]):
                    self.reserved.append(drilldown_box(shape.bounds))
            self.drawn.shapes[n] = shape
        for host_id, attached in per_host.items():
            host_shape = self.drawn.shapes.get(host_id)
            if host_shape is None:
                continue
            hb = host_shape.bounds
            first = hb.x + (hb.width - BOUNDARY_SPACING * (len(attached) - 1)) / 2
            for index, boundary in enumerate(attached):
                cx = first + BOUNDARY_SPACING * index
                self.drawn.shapes[boundary] = DrawnShape(Rect(cx - 18, hb.bottom - 18, 36, 36))
        for lane in lane_ids:
            rows = band_rows[lane]
            height = (
                (ARTIFACT_STRIP if lane == bands[0] and artifacts else 0.0)
                + 2 * PAD
                + rows * (ROW + V_GAP)
                - V_GAP
            )
            self.drawn.shapes[lane] = DrawnShape(
                Rect(left, band_top[lane], right - left, height),
                horizontal=True,
            )
        self._place_shape_labels([*nodes, *boundaries])
        self._place_artifacts(artifacts, container, left + header + PAD, top)
        return Rect(left, top, right - left, bottom - top)

    def _lane_of(
        self, lanes: list[etree._Element], nodes: list[str], edges: list[tuple[str, str]]
    ) -> dict[str, str]:
        lane_of: dict[str, str] = {}
        if not lanes:
            return lane_of
        for lane in lanes:
            for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
                lane_of.setdefault((ref.text or "").strip(), lane.get("id", ""))
        for _ in range(len(nodes)):  # nodes in no lane follow a neighbour's lane
            changed = False
            for source, target in edges:
                if target not in lane_of and source in lane_of:
                    lane_of[target] = lane_of[source]
                    changed = True
                elif source not in lane_of and target in lane_of:
                    lane_of[source] = lane_of[target]
                    changed = True
            if not changed:
                break
        first = lanes[0].get("id", "")
        for n in nodes:
            lane_of.setdefault(n, first)
        return lane_of

    # -- labels --------------------------------------------------------------------------------
    def _obstacles(self) -> list[Rect]:
        return [
            s.bounds
            for i, s in self.drawn.shapes.items()
            if self.semantics.kind(i) not in ("lane", "participant")
        ]

    def _free(self, box: Rect, ignore: str = "") -> bool:
        for element_id, shape in self.drawn.shapes.items():
            if element_id == ignore or self.semantics.kind(element_id) in ("lane", "participant"):
                continue
            if box.overlaps(shape.bounds.inset(-3), tolerance=0.0):
                return False
        taken = [*self.labels.values(), *self.reserved]
        return not any(box.overlaps(other.inset(-2), tolerance=0.0) for other in taken)

    def _place_shape_labels(self, ids: Iterable[str]) -> None:
        for element_id in ids:
            name = self.semantics.name(element_id).strip()
            if not name or self.semantics.kind(element_id) not in EXTERNAL_LABELS:
                continue
            bounds = self.drawn.shapes[element_id].bounds
            width, height = text_size(name)
            cx = bounds.center[0]
            below_right = Rect(bounds.right + 4, bounds.bottom + 4, width, height)
            candidates = [
                Rect(cx - width / 2, bounds.bottom + 5, width, height),
                Rect(bounds.right + 4, bounds.bottom + 2, width, height),
                Rect(cx - width / 2, bounds.y - 5 - height, width, height),
                Rect(bounds.x - 4 - width, bounds.bottom + 2, width, height),
                Rect(cx - width / 2, bounds.bottom + 24, width, height),
                Rect(bounds.right + 4, bounds.y - height - 2, width, height),
            ]
            if self.semantics.kind(element_id) == "boundaryEvent":
                candidates.insert(0, below_right)  # its flow leaves downwards, past the label
            chosen = next((c for c in candidates if self._free(c, element_id)), candidates[0])
            self.labels[element_id] = chosen
            self.drawn.shapes[element_id].label = chosen

    # -- artifacts (data objects, data stores, annotations) in a strip above the first band -----
    def _place_artifacts(
        self, artifacts: list[str], container: etree._Element, left: float, top: float
    ) -> None:
        if not artifacts:
            return
        partner: dict[str, str] = {}
        for child in container.iter():
            if local(child) in DATA_ASSOCIATIONS or local(child) == "association":
                ends = [e for e in self.semantics.node_ends(child) if e]
                for end in ends:
                    others = [e for e in ends if e != end and e in self.drawn.shapes]
                    if end in artifacts and others:
                        partner.setdefault(end, others[0])
        wanted = []
        for index, artifact in enumerate(artifacts):
            anchor = self.drawn.shapes.get(partner.get(artifact, ""))
            wanted.append((anchor.bounds.center[0] if anchor else left + index, index, artifact))
        cursor = left
        for desired, _index, artifact in sorted(wanted):
            kind = self.semantics.kind(artifact)
            name = self.semantics.name(artifact)
            width, height = size_of(kind, text=name)
            label_w = text_size(name)[0] if kind in EXTERNAL_LABELS and name else 0.0
            span = max(width, label_w)
            x = max(cursor, desired - width / 2, left - (span - width) / 2)
            if x - (span - width) / 2 < cursor:
                x = cursor + (span - width) / 2
            y = top + PAD / 2
            self.drawn.shapes[artifact] = DrawnShape(Rect(x, y, width, height))
            cursor = x + width / 2 + span / 2 + 20
            if label_w:
                w, h = text_size(name)
                box = Rect(x + width / 2 - w / 2, y + height + 4, w, h)
                self.labels[artifact] = box
                self.drawn.shapes[artifact].label = box

    # -- routing -------------------------------------------------------------------------------
    def _ports(self, element_id: str, outgoing: bool, toward: Point) -> list[Port]:
        shape = self.drawn.shapes[element_id]
        kind = self.semantics.kind(element_id)
        ports = ports_of(shape.bounds, port_kind(kind))
        centre = shape.bounds.center
        dx, dy = toward[0] - centre[0], toward[1] - centre[1]
        result = []
        for port in ports:
            if kind == "boundaryEvent" and port.direction == UP:
                continue
            facing = port.direction[0] * dx + port.direction[1] * dy
            penalty = 0.0 if facing > 0 else 40.0
            if outgoing and port.direction == LEFT:
                penalty += 30.0
            if not outgoing and port.direction == RIGHT:
                penalty += 30.0
            if kind == "boundaryEvent" and port.direction != DOWN:
                penalty += 20.0
            result.append(Port(port.point, port.direction, port.cost + penalty, port.length))
        return result

    def _route_flows(self) -> None:
        flows = [
            e
            for e, node in self.semantics.by_id.items()
            if local(node) in ("sequenceFlow", "messageFlow")
            and node.get("sourceRef") in self.drawn.shapes
            and node.get("targetRef") in self.drawn.shapes
        ]

        def order(flow_id: str) -> tuple[int, float, int]:
            source, target = self.semantics.ends(flow_id)
            a = self.drawn.shapes[source or ""].bounds.center
            b = self.drawn.shapes[target or ""].bounds.center
            straight = 0 if abs(a[1] - b[1]) < 1 else 1
            return (straight, abs(a[0] - b[0]) + abs(a[1] - b[1]), flows.index(flow_id))

        router = Router(self._obstacles(), walls=[*self.labels.values(), *self.reserved])
        for flow_id in sorted(flows, key=order):
            source, target = self.semantics.ends(flow_id)
            assert source is not None and target is not None
            a = self.drawn.shapes[source].bounds.center
            b = self.drawn.shapes[target].bounds.center
            path = router.route(self._ports(source, True, b), self._ports(target, False, a))
            if path is None:
                path = router.route(
                    self._ports(source, True, b), self._ports(target, False, a), exclusive=False
                )
            self.drawn.edges[flow_id] = DrawnEdge(path or [a, b])
        self.router = router

    def _association_ports(self, element_id: str, toward: Point) -> list[Port]:
        shape = self.drawn.shapes[element_id]
        kind = self.semantics.kind(element_id)
        centre = shape.bounds.center
        dx, dy = toward[0] - centre[0], toward[1] - centre[1]
        return [
            Port(
                p.point,
                p.direction,
                p.cost + (0.0 if p.direction[0] * dx + p.direction[1] * dy > 0 else 40.0),
                p.length,
            )
            for p in ports_of(shape.bounds, port_kind(kind))
            if not (kind == "boundaryEvent" and p.direction == UP)
        ]

    def _route_associations(self) -> None:
        """Dotted arrows to data objects and annotations: routed like flows, around shapes and
        labels, on grid steps no flow or other association uses (if it can be had)."""
        self.router.add_walls(v for k, v in self.labels.items() if self.semantics.kind(k) in FLOW_EDGE_KINDS)
        for container_node in self.semantics.by_id.values():
            for child in container_node:
                kind = local(child)
                element_id = child.get("id", "")
                if (kind not in DATA_ASSOCIATIONS and kind != "association") or not element_id:
                    continue
                source, target = self.semantics.ends(element_id)
                if source not in self.drawn.shapes or target not in self.drawn.shapes:
                    continue
                a = self.drawn.shapes[source or ""].bounds
                b = self.drawn.shapes[target or ""].bounds
                starts = self._association_ports(source or "", b.center)
                ends = self._association_ports(target or "", a.center)
                path = self.router.route(starts, ends) or self.router.route(starts, ends, exclusive=False)
                self.drawn.edges[element_id] = DrawnEdge(
                    path or [_border_toward(a, b.center), _border_toward(b, a.center)]
                )

    def _place_flow_labels(self) -> None:
        for flow_id, edge in self.drawn.edges.items():
            name = self.semantics.name(flow_id).strip()
            if not name:
                continue
            width, height = text_size(name)
            box = self._flow_label(edge.points, width, height)
            edge.label = box
            self.labels[flow_id] = box

    def _flow_label(self, points: list[Point], width: float, height: float) -> Rect:
        candidates: list[Rect] = []
        for a, b in pairwise(points):
            if a[1] == b[1]:
                start = min(a[0], b[0])
                for fraction in (0.1, 0.4, 0.7):
                    x = start + abs(b[0] - a[0]) * fraction
                    candidates.append(Rect(x, a[1] - height - 3, width, height))
                    candidates.append(Rect(x, a[1] + 3, width, height))
            else:
                start = min(a[1], b[1])
                for fraction in (0.15, 0.5):
                    y = start + abs(b[1] - a[1]) * fraction
                    candidates.append(Rect(a[0] + 4, y, width, height))
                    candidates.append(Rect(a[0] - 4 - width, y, width, height))
        flows = [e.points for e in self.drawn.edges.values()]
        clean = [
            c for c in candidates if self._free(c) and not any(polyline_crosses_rect(p, c) for p in flows)
        ]
        if clean:
            return clean[0]
        free = [c for c in candidates if self._free(c)]
        if free:
            return free[0]
        return candidates[0] if candidates else Rect(points[0][0], points[0][1], width, height)

    def _fit_bands(self) -> None:
        """Widen lanes and pools to everything drawn (flows may swing outside the node area)."""
        extent: Rect | None = None
        for element_id, shape in self.drawn.shapes.items():
            if self.semantics.kind(element_id) in ("lane", "participant"):
                continue
            for box in (shape.bounds, shape.label):
                if box is not None:
                    extent = box if extent is None else extent.union(box)
        for edge in self.drawn.edges.values():
            for point in edge.points:
                dot = Rect(point[0], point[1], 0, 0)
                extent = dot if extent is None else extent.union(dot)
            if edge.label is not None and extent is not None:
                extent = extent.union(edge.label)
        if extent is None:
            return
        right = extent.right + 30
        for element_id, shape in self.drawn.shapes.items():
            kind = self.semantics.kind(element_id)
            if kind in ("lane", "participant"):
                b = shape.bounds
                shape.bounds = Rect(b.x, b.y, max(b.width, right - b.x), b.height)
        pools = {i: s for i, s in self.drawn.shapes.items() if self.semantics.kind(i) == "participant"}
        for shape in pools.values():
            b = shape.bounds
            lane_x = b.x + POOL_HEADER
            for element_id, lane in self.drawn.shapes.items():
                if (
                    self.semantics.kind(element_id) == "lane"
                    and b.contains(lane.bounds, tolerance=1e9)
                    and lane.bounds.x <= lane_x + 1
                ):
                    lane.bounds = Rect(
                        lane.bounds.x, lane.bounds.y, b.right - lane.bounds.x, lane.bounds.height
                    )


def _border_toward(box: Rect, toward: Point) -> Point:
    """Where the line from the centre of `box` to `toward` leaves the box."""
    cx, cy = box.center
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return (cx, cy)
    scale = min(
        (box.width / 2) / abs(dx) if dx else float("inf"),
        (box.height / 2) / abs(dy) if dy else float("inf"),
    )
    return (cx + dx * scale, cy + dy * scale)


def has_plane(node: etree._Element) -> bool:
    """Whether the layouter gives the element a plane of its own: a subprocess with flow nodes."""
    return local(node) in SUBPROCESSES and any(local(c) in FLOW_NODES for c in node)


def layout_planes(root: etree._Element) -> list[DrawnPlane]:
    """New DI for the document: the top level (collaboration or each process) and a plane per
    subprocess."""
    semantics = Semantics(root)
    planes: list[DrawnPlane] = []
    collaboration = root.find(f"{{{BPMN}}}collaboration")
    if collaboration is not None:
        planes.append(_PlaneLayout(semantics, collaboration.get("id", "")).run())
        drawn_processes = {p.get("processRef") for p in collaboration.iterfind(f"{{{BPMN}}}participant")}
    else:
        drawn_processes = set()
    for process in root.iterfind(f"{{{BPMN}}}process"):
        if process.get("id") not in drawn_processes:
            planes.append(_PlaneLayout(semantics, process.get("id", "")).run())
    for element_id, node in semantics.by_id.items():
        if has_plane(node):
            planes.append(_PlaneLayout(semantics, element_id).run())
    return planes


def apply_layout(root: etree._Element) -> None:
    """Replace every BPMNDiagram of `root` with the computed layout (semantic elements untouched)."""
    old = list(root.iterfind(f"{{{BPMNDI}}}BPMNDiagram"))
    names: dict[str, tuple[str, str | None, str]] = {}
    di_ids: dict[str, str] = {}
    for diagram in old:
        plane = diagram.find(f"{{{BPMNDI}}}BPMNPlane")
        if plane is not None:
            names[plane.get("bpmnElement", "")] = (
                diagram.get("id", ""),
                diagram.get("name"),
                plane.get("id", ""),
            )
            for child in plane:
                if isinstance(child.tag, str) and child.get("bpmnElement") and child.get("id"):
                    di_ids.setdefault(child.get("bpmnElement", ""), child.get("id", ""))
        root.remove(diagram)
    planes = layout_planes(root)
    semantics = Semantics(root)
    taken = set(semantics.by_id) | set(di_ids.values())
    nsmap = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
    for plane in planes:
        diagram_id, name, plane_id = names.get(
            plane.element_id, (f"Diagram_{plane.element_id}", None, f"Plane_{plane.element_id}")
        )
        diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", nsmap=nsmap)
        diagram.set("id", diagram_id)
        if name:
            diagram.set("name", name)
        plane_node = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane")
        plane_node.set("id", plane_id)
        plane_node.set("bpmnElement", plane.element_id)
        ordered = sorted(plane.shapes.items(), key=lambda item: _draw_order(semantics.kind(item[0])))
        for element_id, shape in ordered:
            node = etree.SubElement(plane_node, f"{{{BPMNDI}}}BPMNShape")
            node.set("id", _di_id(element_id, di_ids, taken))
            node.set("bpmnElement", element_id)
            if shape.horizontal:
                node.set("isHorizontal", "true")
            if shape.expanded is not None:
                node.set("isExpanded", "true" if shape.expanded else "false")
            _bounds(node, shape.bounds)
            if shape.label is not None:
                _bounds(etree.SubElement(node, f"{{{BPMNDI}}}BPMNLabel"), shape.label)
        for element_id, edge in plane.edges.items():
            node = etree.SubElement(plane_node, f"{{{BPMNDI}}}BPMNEdge")
            node.set("id", _di_id(element_id, di_ids, taken))
            node.set("bpmnElement", element_id)
            for x, y in edge.points:
                point = etree.SubElement(node, f"{{{DI}}}waypoint")
                point.set("x", _num(x))
                point.set("y", _num(y))
            if edge.label is not None:
                _bounds(etree.SubElement(node, f"{{{BPMNDI}}}BPMNLabel"), edge.label)
    _indent_di(root)


def _draw_order(kind: str) -> int:
    return {"participant": 0, "lane": 1}.get(kind, 2 if kind != "boundaryEvent" else 3)


def _di_id(element_id: str, known: dict[str, str], taken: set[str]) -> str:
    if element_id in known:
        return known[element_id]
    candidate = f"{element_id}_di"
    suffix = 2
    while candidate in taken:
        candidate = f"{element_id}_di{suffix}"
        suffix += 1
    taken.add(candidate)
    known[element_id] = candidate
    return candidate


def _num(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 1e-6 else f"{value:.1f}"


def _bounds(parent: etree._Element, rect: Rect) -> None:
    box = etree.SubElement(parent, f"{{{DC}}}Bounds")
    box.set("x", _num(rect.x))
    box.set("y", _num(rect.y))
    box.set("width", _num(rect.width))
    box.set("height", _num(rect.height))


def _indent_di(root: etree._Element) -> None:
    """Indent the new DI like the rest of the file (two spaces per level)."""
    diagrams = list(root.iterfind(f"{{{BPMNDI}}}BPMNDiagram"))
    for index, diagram in enumerate(diagrams):
        previous = diagram.getprevious()
        if previous is not None:
            previous.tail = "\n  "
        etree.indent(diagram, space="  ", level=1)
        diagram.tail = "\n  " if index < len(diagrams) - 1 else "\n"
