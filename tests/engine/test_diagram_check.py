"""The layout check over DI geometry: each defect found on a small hand-drawn diagram."""

from __future__ import annotations

from lxml import etree

from xinedai_workflow.engine.diagram.check import check_layout, count_by_kind

HEAD = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">'
)
PROCESS = """
<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="start" name="{start_name}"/>
  <bpmn:task id="a" name="A"/>
  <bpmn:task id="b" name="B"/>
  <bpmn:boundaryEvent id="timer" name="{timer_name}" attachedToRef="a"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="b"/>
  <bpmn:sequenceFlow id="f2" sourceRef="start" targetRef="a"/>
</bpmn:process>
"""


def shape(element: str, x: float, y: float, w: float, h: float, label: str = "") -> str:
    return (
        f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/>{label}</bpmndi:BPMNShape>'
    )


def edge(element: str, *points: tuple[float, float]) -> str:
    waypoints = "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
    return f'<bpmndi:BPMNEdge id="{element}_di" bpmnElement="{element}">{waypoints}</bpmndi:BPMNEdge>'


def document(di: str, start_name: str = "", timer_name: str = "") -> etree._Element:
    body = PROCESS.format(start_name=start_name, timer_name=timer_name)
    plane = (
        f'<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="p">{di}'
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    return etree.fromstring((HEAD + body + plane + "</bpmn:definitions>").encode())


CLEAN_SHAPES = (
    shape("start", 0, 82, 36, 36)
    + shape("a", 100, 60, 100, 80)
    + shape("b", 100, 260, 100, 80)
    + shape("timer", 132, 122, 36, 36)
)


def test_a_clean_drawing_has_no_findings() -> None:
    di = CLEAN_SHAPES + edge("f2", (36, 100), (100, 100)) + edge("f1", (18, 118), (18, 300), (100, 300))
    assert check_layout(document(di)) == []


def test_a_flow_through_a_shape_is_found_with_both_ids() -> None:
    di = CLEAN_SHAPES + edge("f2", (36, 100), (100, 100)) + edge("f1", (36, 100), (150, 100), (150, 260))
    findings = [f for f in check_layout(document(di)) if f.kind == "flow_through_shape"]
    assert [f.element_ids for f in findings] == [("f1", "a"), ("f1", "timer")]
    assert "passes through 'A'" in findings[0].message


def test_two_flows_on_one_line_share_a_segment() -> None:
    di = (
        CLEAN_SHAPES
        + edge("f2", (36, 100), (100, 100))
        + edge("f1", (36, 100), (80, 100), (80, 300), (100, 300))
    )
    findings = [f for f in check_layout(document(di)) if f.kind == "shared_segment"]
    assert [f.element_ids for f in findings] == [("f2", "f1")]


def test_overlapping_shapes_and_a_boundary_event_off_its_host() -> None:
    di = (
        shape("start", 0, 82, 36, 36)
        + shape("a", 100, 60, 100, 80)
        + shape("b", 150, 100, 100, 80)
        + shape("timer", 400, 400, 36, 36)
        + edge("f2", (36, 100), (100, 100))
        + edge("f1", (18, 118), (18, 300), (200, 300), (200, 180))
    )
    findings = check_layout(document(di))
    overlaps = sorted(f.element_ids for f in findings if f.kind == "shape_overlap")
    assert overlaps == [("a", "b"), ("timer",)]


def test_labels_overlapping_each_other_or_a_shape() -> None:
    label = '<bpmndi:BPMNLabel><dc:Bounds x="110" y="70" width="60" height="14"/></bpmndi:BPMNLabel>'
    di = (
        shape("start", 0, 82, 36, 36, label)
        + shape("a", 100, 60, 100, 80)
        + shape("b", 100, 260, 100, 80)
        + shape("timer", 132, 122, 36, 36)
        + edge("f2", (36, 100), (100, 100))
        + edge("f1", (18, 118), (18, 300), (100, 300))
    )
    findings = check_layout(document(di, start_name="Overdue", timer_name="Two days"))
    labels = sorted(f.element_ids for f in findings if f.kind == "label_overlap")
    # the start's label sits on task A; the timer's default label (below it) is clear
    assert labels == [("start", "a")]


def test_missing_di_and_a_plane_too_large() -> None:
    di = shape("start", 0, 82, 36, 36) + shape("a", 100, 60, 100, 80) + edge("f2", (36, 100), (100, 100))
    findings = check_layout(document(di), max_plane_elements=2)
    counts = count_by_kind(findings)
    assert counts["missing_di"] == 3  # b, the boundary event, f1
    assert counts["plane_too_large"] == 1
    assert {f.element_ids[0] for f in findings if f.kind == "missing_di"} == {"b", "timer", "f1"}


def test_a_process_without_any_diagram_lacks_di_for_every_node_and_flow() -> None:
    root = etree.fromstring(
        (HEAD + PROCESS.format(start_name="", timer_name="") + "</bpmn:definitions>").encode()
    )
    assert count_by_kind(check_layout(root))["missing_di"] == 6
