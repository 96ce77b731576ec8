"""The layout check over DI geometry: each defect found on a small hand-drawn diagram."""

from __future__ import annotations

import pytest
from lxml import etree

from xinedai_workflow.engine.diagram.check import Finding, check_layout, count_by_kind

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


def parse(body: str, di: str, more_planes: str = "") -> etree._Element:
    """The definitions of `body` with `di` as the plane of process p (and `more_planes`)."""
    plane = (
        f'<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="p">{di}'
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    return etree.fromstring((HEAD + body + plane + more_planes + "</bpmn:definitions>").encode())


def document(di: str, start_name: str = "", timer_name: str = "") -> etree._Element:
    return parse(PROCESS.format(start_name=start_name, timer_name=timer_name), di)


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


def _label(x: float, y: float, w: float, h: float) -> str:
    return f'<bpmndi:BPMNLabel><dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNLabel>'


def _named_with_start_label(start_label: str) -> list[Finding]:
    """The check on the named two-task diagram, the start event's label placed by `start_label`."""
    di = (
        shape("start", 0, 82, 36, 36, start_label)
        + shape("a", 100, 60, 100, 80)
        + shape("b", 100, 260, 100, 80)
        + shape("timer", 132, 122, 36, 36)
        + edge("f2", (36, 100), (100, 100))
        + edge("f1", (18, 118), (18, 300), (100, 300))
    )
    return check_layout(document(di, start_name="Overdue", timer_name="Two days"))


def test_labels_overlapping_each_other_or_a_shape() -> None:
    findings = _named_with_start_label(_label(110, 70, 60, 14))
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


@pytest.mark.parametrize(("gap", "found"), [(1, True), (3, False)])
def test_a_boundary_events_label_keeps_two_pixels_from_other_labels(gap: float, found: bool) -> None:
    # the timer's default label is 48 px wide below it, from x=126 to x=174, y=163
    findings = _named_with_start_label(_label(174 + gap, 163, 42, 14))
    labels = [f.element_ids for f in findings if f.kind == "label_overlap"]
    assert labels == ([("start", "timer")] if found else [])


def test_a_flow_through_another_elements_label() -> None:
    crossing = _label(50, 92, 42, 14)  # the start's label put on the line start → A
    di = CLEAN_SHAPES.replace(
        '<dc:Bounds x="0" y="82" width="36" height="36"/>',
        f'<dc:Bounds x="0" y="82" width="36" height="36"/>{crossing}',
    )
    di += edge("f2", (36, 100), (100, 100)) + edge("f1", (18, 118), (18, 300), (100, 300))
    findings = [f for f in check_layout(document(di, start_name="Overdue")) if f.kind == "edge_through_label"]
    assert [f.element_ids for f in findings] == [("f2", "start")]
    assert "passes through the label of startEvent 'Overdue'" in findings[0].message


DATA_PROCESS = """
<bpmn:process id="p" isExecutable="true">
  <bpmn:dataObject id="obj"/>
  <bpmn:startEvent id="start"/>
  <bpmn:task id="a" name="A">
    <bpmn:dataInputAssociation id="in"><bpmn:sourceRef>ledger</bpmn:sourceRef></bpmn:dataInputAssociation>
  </bpmn:task>
  <bpmn:task id="b" name="B"/>
  <bpmn:dataObjectReference id="ledger" name="{ledger_name}" dataObjectRef="obj"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/>
  <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
</bpmn:process>
"""


def data_document(di: str, ledger_name: str = "") -> etree._Element:
    return parse(DATA_PROCESS.format(ledger_name=ledger_name), di)


DATA_SHAPES = (
    shape("start", 0, 82, 36, 36)
    + shape("a", 100, 60, 100, 80)
    + shape("b", 300, 60, 100, 80)
    + edge("f1", (36, 100), (100, 100))
    + edge("f2", (200, 100), (300, 100))
)


def test_a_data_association_beside_the_shapes_is_clean() -> None:
    di = DATA_SHAPES + shape("ledger", 132, 200, 36, 50) + edge("in", (150, 200), (150, 140))
    assert check_layout(data_document(di, "Ledger")) == []


def test_a_data_association_through_a_shape_it_does_not_connect() -> None:
    di = (
        DATA_SHAPES
        + shape("ledger", 332, 200, 36, 50)
        + edge("in", (332, 225), (250, 225), (250, 120), (200, 120))
    )
    clean = [f for f in check_layout(data_document(di)) if f.kind == "association_through_shape"]
    assert clean == []
    through = DATA_SHAPES + shape("ledger", 432, 82, 36, 50) + edge("in", (432, 110), (200, 110))
    findings = [f for f in check_layout(data_document(through)) if f.kind == "association_through_shape"]
    assert [f.element_ids for f in findings] == [("in", "b")]
    assert "passes through task 'B'" in findings[0].message


def test_a_data_association_through_a_label() -> None:
    # the data object's label sits below it; the line to A leaves through it
    route = ((150, 250), (150, 280), (80, 280), (80, 120), (100, 120))
    di = DATA_SHAPES + shape("ledger", 132, 200, 36, 50) + edge("in", *route)
    di = di.replace(
        '<dc:Bounds x="132" y="200" width="36" height="50"/>',
        '<dc:Bounds x="132" y="200" width="36" height="50"/>' + _label(130, 255, 40, 14),
    )
    findings = [f for f in check_layout(data_document(di, "Ledger")) if f.kind == "edge_through_label"]
    assert [f.element_ids for f in findings] == [("in", "ledger")]


SUB_PROCESS = """
<bpmn:process id="p" isExecutable="true">
  <bpmn:subProcess id="s" name="Stage"><bpmn:startEvent id="s1"/></bpmn:subProcess>
  <bpmn:endEvent id="end" name="{end_name}"/>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="end"/>
</bpmn:process>
"""


def sub_document(di: str, end_name: str = "") -> etree._Element:
    inner = (
        f'<bpmndi:BPMNDiagram id="D2"><bpmndi:BPMNPlane id="P2" bpmnElement="s">{shape("s1", 0, 0, 36, 36)}'
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    return parse(SUB_PROCESS.format(end_name=end_name), di, inner)


def collapsed(x: float, y: float) -> str:
    return shape("s", x, y, 100, 80).replace('bpmnElement="s">', 'bpmnElement="s" isExpanded="false">')


def test_a_flow_clear_of_the_drill_down_button_is_clean() -> None:
    # bpmn-js draws the button at (188, 147), 20 px square, below the shape's bottom-right corner
    di = collapsed(100, 60) + shape("end", 132, 260, 36, 36) + edge("f1", (150, 140), (150, 260))
    assert check_layout(sub_document(di)) == []


def test_a_flow_or_a_label_over_the_drill_down_button() -> None:
    di = collapsed(100, 60) + shape("end", 182, 260, 36, 36) + edge("f1", (195, 140), (195, 260))
    findings = [f for f in check_layout(sub_document(di)) if f.kind == "drilldown_covered"]
    assert [f.element_ids for f in findings] == [("s", "f1")]
    assert "covers the drill-down button of subProcess 'Stage'" in findings[0].message
    label = _label(170, 150, 40, 14)
    di = collapsed(100, 60) + shape("end", 132, 260, 36, 36, label) + edge("f1", (150, 140), (150, 260))
    findings = [f for f in check_layout(sub_document(di, "Done")) if f.kind == "drilldown_covered"]
    assert [f.element_ids for f in findings] == [("s", "end")]
