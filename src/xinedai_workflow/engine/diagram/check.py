"""The layout check: what makes a BPMN diagram hard to read, found from its DI geometry.

Findings name the plane and the element ids involved. The check is the judge of the layouter
(`layout.py`) and a deploy warning for hand-edited diagrams.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from .geometry import Rect, polyline_crosses_rect, polylines_shared_length, waypoints_mid
from .labels import default_shape_label, drilldown_box, label_box
from .model import (
    ARTIFACTS,
    DATA_ASSOCIATIONS,
    EXTERNAL_LABELS,
    FLOW_NODES,
    SUBPROCESSES,
    TASKS,
    Plane,
    Semantics,
    local,
    read_planes,
)

MAX_PLANE_ELEMENTS = 40
SHARED_TOLERANCE = 4.0  # pixels two flows may run together (where they touch at a port)
KINDS = (
    "missing_di",
    "flow_through_shape",
    "association_through_shape",
    "edge_through_label",
    "drilldown_covered",
    "shared_segment",
    "label_overlap",
    "shape_overlap",
    "outside_lane",
    "plane_too_large",
)
FLOW_KINDS = frozenset({"sequenceFlow", "messageFlow"})
ASSOCIATION_KINDS = DATA_ASSOCIATIONS | {"association"}
BOUNDARY_GAP = 2.0  # pixels a boundary event's label keeps from other labels and shapes
CONTAINER_KINDS = frozenset({"lane", "participant"})


@dataclass(frozen=True)
class Finding:
    """One layout defect: its kind (one of `KINDS`), the plane, the elements and what is wrong."""

    kind: str
    plane: str
    element_ids: tuple[str, ...]
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "plane": self.plane,
            "element_ids": list(self.element_ids),
            "message": self.message,
        }


def check_layout(root: etree._Element, max_plane_elements: int = MAX_PLANE_ELEMENTS) -> list[Finding]:
    """Every layout defect of the document `root` (a parsed `bpmn:definitions`)."""
    semantics = Semantics(root)
    planes = read_planes(root)
    findings: list[Finding] = []
    drawn_expanded: set[str] = set()
    for plane in planes:
        drawn_expanded.update(s.element_id for s in plane.shapes.values() if s.expanded)
    plane_of = {plane.element_id: plane for plane in planes}
    for plane in planes:
        findings.extend(_PlaneCheck(semantics, plane, max_plane_elements, set(plane_of)).run())
    findings.extend(_missing_planes(semantics, plane_of, drawn_expanded))
    findings.extend(_undrawn_processes(semantics, planes))
    return findings


def _undrawn_processes(semantics: Semantics, planes: list[Plane]) -> list[Finding]:
    """A process no plane shows: each of its flow nodes and flows lacks DI."""
    shown = {p.get("id") for plane in planes for p in semantics.processes_of(plane.element_id)}
    found: list[Finding] = []
    for process in semantics.root.iterfind("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
        if process.get("id") in shown:
            continue
        for child in semantics.children(process):
            if local(child) in FLOW_NODES or local(child) == "sequenceFlow":
                element_id = child.get("id", "")
                found.append(
                    Finding(
                        "missing_di",
                        "",
                        (element_id,),
                        f"{local(child)} {element_id} is drawn on no plane (process "
                        f"{process.get('id')} has no diagram)",
                    )
                )
    return found


def count_by_kind(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    return counts


def _missing_planes(
    semantics: Semantics, plane_of: dict[str, Plane], drawn_expanded: set[str]
) -> list[Finding]:
    found: list[Finding] = []
    for element_id, node in semantics.by_id.items():
        if local(node) not in SUBPROCESSES or element_id in drawn_expanded or element_id in plane_of:
            continue
        if any(local(child) in FLOW_NODES for child in node):
            found.append(
                Finding(
                    "missing_di",
                    "",
                    (element_id,),
                    f"subprocess {element_id} is drawn collapsed but has no plane of its own",
                )
            )
    return found


class _PlaneCheck:
    def __init__(
        self, semantics: Semantics, plane: Plane, max_elements: int, planes: set[str] | None = None
    ) -> None:
        self.semantics = semantics
        self.planes = planes or set()  # the elements with a plane of their own
        self.plane = plane
        self.max_elements = max_elements
        self.findings: list[Finding] = []
        self.parent: dict[str, str] = {}  # element → the subprocess it sits in (expanded ones)

    def add(self, kind: str, ids: Iterable[str], message: str) -> None:
        self.findings.append(Finding(kind, self.plane.element_id, tuple(ids), message))

    def run(self) -> list[Finding]:
        expected = self._expected()
        self._missing(expected)
        self._size()
        self._flows_through_shapes()
        self._associations_through_shapes()
        self._edges_through_labels()
        self._drilldowns()
        self._shared_segments()
        self._shape_overlaps()
        self._labels()
        self._lane_bands()
        return self.findings

    # -- what the plane should draw --------------------------------------------------------------
    def _expected(self) -> list[str]:
        ids: list[str] = []
        node = self.semantics.by_id.get(self.plane.element_id)
        if node is not None and local(node) == "collaboration":
            for child in node:
                if local(child) in {"participant", "messageFlow"} and child.get("id"):
                    ids.append(child.get("id", ""))
        for container in self.semantics.processes_of(self.plane.element_id):
            ids.extend(self._members(container))
        return ids

    def _members(self, container: etree._Element) -> list[str]:
        ids = [lane.get("id", "") for lane in self.semantics.lanes(container)]
        for child in self.semantics.children(container):
            kind = local(child)
            element_id = child.get("id", "")
            if kind in FLOW_NODES or kind in ARTIFACTS or kind in {"sequenceFlow", "association"}:
                ids.append(element_id)
            if kind in TASKS or kind in SUBPROCESSES:
                ids.extend(a.get("id", "") for a in child if local(a) in DATA_ASSOCIATIONS and a.get("id"))
            shape = self.plane.shapes.get(element_id)
            if kind in SUBPROCESSES and shape is not None and shape.expanded:
                for inner in self._members(child):
                    self.parent[inner] = element_id
                    ids.append(inner)
        return ids

    def _missing(self, expected: list[str]) -> None:
        for element_id in expected:
            kind = self.semantics.kind(element_id)
            edge = self.plane.edges.get(element_id)
            if element_id in self.plane.shapes:
                continue
            if edge is not None:
                if len(edge.points) < 2:
                    self.add("missing_di", [element_id], f"{kind} {element_id} has fewer than two waypoints")
                continue
            self.add("missing_di", [element_id], f"{kind} {element_id} is not drawn on this plane")

    def _size(self) -> None:
        """Flow nodes and sequence flows a reader follows (data objects and their arrows aside)."""
        drawn = [*self.plane.shapes, *self.plane.edges]
        count = sum(
            1 for e in drawn if self.semantics.kind(e) in FLOW_NODES or self.semantics.kind(e) in FLOW_KINDS
        )
        if count > self.max_elements:
            self.add(
                "plane_too_large",
                [self.plane.element_id],
                f"the plane draws {count} flow nodes and flows (at most {self.max_elements} read at "
                "normal zoom): split it into sub-stages",
            )

    # -- geometry -------------------------------------------------------------------------------
    def _solid(self, element_id: str) -> bool:
        """Shapes a flow must not cross: not lanes, pools or expanded subprocesses."""
        shape = self.plane.shapes[element_id]
        return self.semantics.kind(element_id) not in CONTAINER_KINDS and not shape.expanded

    def _flows(self) -> list[str]:
        return [e for e in self.plane.edges if self.semantics.kind(e) in FLOW_KINDS]

    def _flows_through_shapes(self) -> None:
        for flow_id in self._flows():
            points = self.plane.edges[flow_id].points
            source, target = self.semantics.ends(flow_id)
            for element_id, shape in self.plane.shapes.items():
                if element_id in (source, target):
                    continue
                if shape.expanded:
                    if self._inside(flow_id, element_id):
                        continue
                elif not self._solid(element_id):
                    continue
                if polyline_crosses_rect(points, shape.bounds.inset(2)):
                    name = self.semantics.name(element_id) or element_id
                    self.add(
                        "flow_through_shape",
                        [flow_id, element_id],
                        f"sequence flow {flow_id} ({source} → {target}) passes through {name!r}",
                    )

    def _associations(self) -> list[str]:
        return [e for e in self.plane.edges if self.semantics.kind(e) in ASSOCIATION_KINDS]

    def _associations_through_shapes(self) -> None:
        """A dotted data or annotation line drawn through a shape it does not connect."""
        for association_id in self._associations():
            points = self.plane.edges[association_id].points
            ends = self.semantics.ends(association_id)
            for element_id, shape in self.plane.shapes.items():
                if element_id in ends or not self._solid(element_id):
                    continue
                if polyline_crosses_rect(points, shape.bounds.inset(2)):
                    self.add(
                        "association_through_shape",
                        [association_id, element_id],
                        f"association {association_id} ({ends[0]} → {ends[1]}) passes through "
                        f"{self._what(element_id)}",
                    )

    def _edges_through_labels(self) -> None:
        """A flow or association drawn through the label of another element."""
        boxes = self._label_boxes()
        for edge_id in [*self._flows(), *self._associations()]:
            points = self.plane.edges[edge_id].points
            for element_id, box in boxes:
                if element_id != edge_id and polyline_crosses_rect(points, box.inset(1)):
                    self.add(
                        "edge_through_label",
                        [edge_id, element_id],
                        f"{self.semantics.kind(edge_id)} {edge_id} passes through the label of "
                        f"{self._what(element_id)}",
                    )

    def _drilldowns(self) -> None:
        """A label, a shape or a line over the drill-down button of a collapsed subprocess."""
        labels = self._label_boxes()
        edges = [*self._flows(), *self._associations()]
        for owner, shape in self.plane.shapes.items():
            if self.semantics.kind(owner) not in SUBPROCESSES or shape.expanded or owner not in self.planes:
                continue
            button = drilldown_box(shape.bounds)
            covering = [e for e, box in labels if box.overlaps(button, tolerance=0.0)]
            covering += [
                e
                for e, other in self.plane.shapes.items()
                if e != owner and self._solid(e) and other.bounds.overlaps(button, tolerance=0.0)
            ]
            covering += [e for e in edges if polyline_crosses_rect(self.plane.edges[e].points, button)]
            for element_id in covering:
                self.add(
                    "drilldown_covered",
                    [owner, element_id],
                    f"{self._what(element_id)} covers the drill-down button of {self._what(owner)}",
                )

    def _inside(self, element_id: str, container_id: str) -> bool:
        current = self.parent.get(element_id)
        while current is not None:
            if current == container_id:
                return True
            current = self.parent.get(current)
        return False

    def _shared_segments(self) -> None:
        flows = self._flows()
        for i, first in enumerate(flows):
            for second in flows[i + 1 :]:
                shared = polylines_shared_length(
                    self.plane.edges[first].points, self.plane.edges[second].points
                )
                if shared > SHARED_TOLERANCE:
                    self.add(
                        "shared_segment",
                        [first, second],
                        f"sequence flows {first} and {second} run on top of each other for {shared:.0f} px",
                    )

    def _shape_overlaps(self) -> None:
        shapes = list(self.plane.shapes.values())
        for i, first in enumerate(shapes):
            for second in shapes[i + 1 :]:
                self._overlap_pair(first.element_id, second.element_id)

    def _is_container(self, element_id: str) -> bool:
        shape = self.plane.shapes[element_id]
        return self.semantics.kind(element_id) in CONTAINER_KINDS or bool(shape.expanded)

    def _overlap_pair(self, first: str, second: str) -> None:
        a, b = self.plane.shapes[first].bounds, self.plane.shapes[second].bounds
        hosts = {self.semantics.boundary_host(first), self.semantics.boundary_host(second)}
        if first in hosts or second in hosts:
            boundary, host = (first, b) if self.semantics.boundary_host(first) == second else (second, a)
            centre = self.plane.shapes[boundary].bounds.center
            on_border = host.inset(-3).contains_point(centre) and not host.inset(3).contains_point(centre)
            if not on_border:
                self.add(
                    "shape_overlap", [boundary], f"boundary event {boundary} is not on its host's border"
                )
            return
        if not a.overlaps(b):
            return
        first_container, second_container = self._is_container(first), self._is_container(second)
        if first_container and a.contains(b) and not (second_container and b.contains(a)):
            return
        if second_container and b.contains(a):
            return
        if first_container and second_container and self._sibling_lanes_nested(first, second):
            return
        self.add("shape_overlap", [first, second], f"{self._what(first)} overlaps {self._what(second)}")

    def _sibling_lanes_nested(self, first: str, second: str) -> bool:
        a, b = self.plane.shapes[first].bounds, self.plane.shapes[second].bounds
        return a.contains(b) or b.contains(a)

    def _what(self, element_id: str) -> str:
        name = self.semantics.name(element_id)
        kind = self.semantics.kind(element_id) or "shape"
        return f"{kind} {name!r}" if name else f"{kind} {element_id}"

    def _label_boxes(self) -> list[tuple[str, Rect]]:
        boxes: list[tuple[str, Rect]] = []
        for element_id, shape in self.plane.shapes.items():
            name = self.semantics.name(element_id).strip()
            if name and self.semantics.kind(element_id) in EXTERNAL_LABELS:
                boxes.append((element_id, shape.label or default_shape_label(name, shape.bounds)))
        for element_id, edge in self.plane.edges.items():
            name = self.semantics.name(element_id).strip()
            if name and self.semantics.kind(element_id) in FLOW_KINDS and edge.points:
                boxes.append((element_id, edge.label or label_box(name, waypoints_mid(edge.points))))
        return boxes

    def _touch(self, first: str, a: Rect, second: str, b: Rect) -> bool:
        """Whether two boxes overlap; with a boundary event involved, closer than `BOUNDARY_GAP`."""
        if "boundaryEvent" in (self.semantics.kind(first), self.semantics.kind(second)):
            return a.inset(-BOUNDARY_GAP).overlaps(b, tolerance=0.0)
        return a.overlaps(b, tolerance=1.0)

    def _labels(self) -> None:
        boxes = self._label_boxes()
        for i, (first, a) in enumerate(boxes):
            for second, b in boxes[i + 1 :]:
                if self._touch(first, a, second, b):
                    self.add(
                        "label_overlap",
                        [first, second],
                        f"the labels of {self._what(first)} and {self._what(second)} overlap",
                    )
            for element_id, shape in self.plane.shapes.items():
                if element_id == first or not self._solid(element_id) or shape.expanded:
                    continue
                if self._touch(first, a, element_id, shape.bounds):
                    self.add(
                        "label_overlap",
                        [first, element_id],
                        f"the label of {self._what(first)} covers {self._what(element_id)}",
                    )

    def _lane_bands(self) -> None:
        for container in self.semantics.processes_of(self.plane.element_id):
            for lane in self.semantics.lanes(container):
                lane_shape = self.plane.shapes.get(lane.get("id", ""))
                if lane_shape is None:
                    continue
                for ref in lane.iterfind("{*}flowNodeRef"):
                    element_id = (ref.text or "").strip()
                    shape = self.plane.shapes.get(element_id)
                    if shape is None or self.semantics.kind(element_id) == "boundaryEvent":
                        continue
                    if not lane_shape.bounds.contains(shape.bounds, tolerance=1.0):
                        self.add(
                            "outside_lane",
                            [element_id, lane.get("id", "")],
                            f"{self._what(element_id)} belongs to lane "
                            f"{lane.get('name') or lane.get('id')!r} "
                            "but is drawn outside its band",
                        )
