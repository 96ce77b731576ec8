"""What a BPMN file says about its drawing: the semantic elements each plane should show and the
DI shapes and edges it does show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from .geometry import Point, Rect

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

TASKS = frozenset(
    {
        "task",
        "userTask",
        "serviceTask",
        "scriptTask",
        "manualTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "callActivity",
    }
)
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
EVENTS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)
GATEWAYS = frozenset(
    {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
)
FLOW_NODES = TASKS | SUBPROCESSES | EVENTS | GATEWAYS
ARTIFACTS = frozenset({"dataObjectReference", "dataStoreReference", "textAnnotation"})
DATA_ASSOCIATIONS = frozenset({"dataInputAssociation", "dataOutputAssociation"})
# elements whose name bpmn-js draws outside the shape (the rest write it inside)
EXTERNAL_LABELS = EVENTS | GATEWAYS | frozenset({"dataObjectReference", "dataStoreReference"})


def local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def is_bpmn(node: etree._Element) -> bool:
    return isinstance(node.tag, str) and etree.QName(node).namespace == BPMN


@dataclass
class Shape:
    """A BPMNShape: the element it draws, its bounds and the bounds of its label if given."""

    di_id: str
    element_id: str
    bounds: Rect
    label: Rect | None
    expanded: bool | None


@dataclass
class Edge:
    """A BPMNEdge: the element it draws, its waypoints and the bounds of its label if given."""

    di_id: str
    element_id: str
    points: list[Point]
    label: Rect | None


@dataclass
class Plane:
    """One BPMNPlane (one view in a modeler) and what it draws."""

    id: str
    element_id: str
    shapes: dict[str, Shape] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    node: etree._Element | None = None


def _bounds(node: etree._Element) -> Rect | None:
    box = node.find(f"{{{DC}}}Bounds")
    if box is None:
        return None
    try:
        return Rect(*(float(box.get(name, "0")) for name in ("x", "y", "width", "height")))
    except ValueError:
        return None


def read_planes(root: etree._Element) -> list[Plane]:
    """Every BPMNPlane of the document with its shapes and edges."""
    planes: list[Plane] = []
    for node in root.iter(f"{{{BPMNDI}}}BPMNPlane"):
        plane = Plane(node.get("id", ""), node.get("bpmnElement", ""), node=node)
        for child in node:
            if not isinstance(child.tag, str):
                continue
            element = child.get("bpmnElement", "")
            label_node = child.find(f"{{{BPMNDI}}}BPMNLabel")
            label = _bounds(label_node) if label_node is not None else None
            if local(child) == "BPMNShape":
                bounds = _bounds(child)
                if bounds is not None:
                    expanded = child.get("isExpanded")
                    plane.shapes[element] = Shape(
                        child.get("id", ""), element, bounds, label, None if expanded is None else expanded == "true"
                    )
            elif local(child) == "BPMNEdge":
                points: list[Point] = []
                for waypoint in child.iter(f"{{{DI}}}waypoint"):
                    try:
                        points.append((float(waypoint.get("x", "0")), float(waypoint.get("y", "0"))))
                    except ValueError:
                        continue
                plane.edges[element] = Edge(child.get("id", ""), element, points, label)
        planes.append(plane)
    return planes


class Semantics:
    """The semantic side of the document, indexed by id."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.by_id: dict[str, etree._Element] = {}
        for node in root.iter():
            if is_bpmn(node) and node.get("id"):
                self.by_id.setdefault(node.get("id", ""), node)

    def kind(self, element_id: str) -> str:
        node = self.by_id.get(element_id)
        return local(node) if node is not None else ""

    def name(self, element_id: str) -> str:
        node = self.by_id.get(element_id)
        if node is None:
            return ""
        if local(node) == "textAnnotation":
            text = node.find(f"{{{BPMN}}}text")
            return (text.text or "") if text is not None else ""
        return node.get("name", "") or ""

    def processes_of(self, element_id: str) -> list[etree._Element]:
        """The containers a plane's element stands for: a collaboration's processes, or itself."""
        node = self.by_id.get(element_id)
        if node is None:
            return []
        if local(node) == "collaboration":
            found = []
            for participant in node.iterfind(f"{{{BPMN}}}participant"):
                process = self.by_id.get(participant.get("processRef", ""))
                if process is not None:
                    found.append(process)
            return found
        return [node]

    @staticmethod
    def children(container: etree._Element) -> Iterator[etree._Element]:
        """Flow elements, artifacts and associations directly inside a process or subprocess."""
        for child in container:
            if is_bpmn(child) and child.get("id"):
                yield child

    def lanes(self, container: etree._Element) -> list[etree._Element]:
        """The lanes of a container's laneSet, nested lanes flattened (outer before inner)."""
        found: list[etree._Element] = []

        def walk(lane_set: etree._Element) -> None:
            for lane in lane_set.iterfind(f"{{{BPMN}}}lane"):
                found.append(lane)
                for child_set in lane.iterfind(f"{{{BPMN}}}childLaneSet"):
                    walk(child_set)

        for lane_set in container.iterfind(f"{{{BPMN}}}laneSet"):
            walk(lane_set)
        return found

    def boundary_host(self, element_id: str) -> str | None:
        node = self.by_id.get(element_id)
        if node is None or local(node) != "boundaryEvent":
            return None
        return node.get("attachedToRef")

    def ends(self, element_id: str) -> tuple[str | None, str | None]:
        """Source and target of a flow, an association or a data association."""
        node = self.by_id.get(element_id)
        return self.node_ends(node) if node is not None else (None, None)

    @staticmethod
    def node_ends(node: etree._Element) -> tuple[str | None, str | None]:
        kind = local(node)
        if kind in DATA_ASSOCIATIONS:
            source = node.findtext(f"{{{BPMN}}}sourceRef")
            target = node.findtext(f"{{{BPMN}}}targetRef")
            owner = node.getparent()
            owner_id = owner.get("id") if owner is not None else None
            if kind == "dataInputAssociation":
                return (source.strip() if source else None), owner_id
            return owner_id, (target.strip() if target else None)
        return node.get("sourceRef"), node.get("targetRef")
