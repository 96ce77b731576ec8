"""Every shipped and test diagram passes the layout check; the layouter makes it so and keeps
every semantic element (and every spiffworkflow extension) byte for byte."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree

from xinedai_workflow.engine.diagram.check import check_layout, count_by_kind
from xinedai_workflow.engine.diagram.document import check_file, layout_file, semantics_c14n

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "processes").rglob("*.bpmn"))
# tests/engine/stored_states/bundle is a frozen copy of an earlier shipped version (the one its
# stored states were made with), kept byte for byte as it was: not a drawing anyone edits
FROZEN = ROOT / "tests" / "engine" / "stored_states" / "bundle"
TEST_BUNDLES = sorted(p for p in (ROOT / "tests").rglob("*.bpmn") if FROZEN not in p.parents)
MAIN = ROOT / "processes" / "xinedai_overdue.bpmn"


@pytest.fixture(scope="module")
def laid_out() -> bytes:
    return layout_file(MAIN.read_bytes(), MAIN.name)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", TEST_BUNDLES, ids=_name)
def test_every_test_bundle_passes_the_layout_check(path: Path) -> None:
    findings = check_file(path.read_bytes(), path.name)
    assert [f.to_dict() for f in findings] == []


@pytest.mark.parametrize("path", SHIPPED, ids=_name)
def test_every_shipped_bundle_passes_the_layout_check(path: Path) -> None:
    findings = check_file(path.read_bytes(), path.name)
    assert {kind: n for kind, n in count_by_kind(findings).items() if n} == {}


def test_the_layouter_clears_every_geometric_defect_of_the_shipped_diagram(laid_out: bytes) -> None:
    assert {kind: n for kind, n in count_by_kind(check_file(laid_out)).items() if n} == {}


def test_the_layouter_keeps_the_semantics_and_the_bytes_before_the_diagram(laid_out: bytes) -> None:
    original = MAIN.read_bytes()
    assert semantics_c14n(laid_out) == semantics_c14n(original)
    di_start = original.index(b"<bpmndi:BPMNDiagram")
    assert laid_out[:di_start] == original[:di_start]
    spiff = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"

    def extensions(content: bytes) -> list[bytes]:
        root = etree.fromstring(content)
        return [etree.tostring(n) for n in root.iter() if isinstance(n.tag, str) and n.tag.startswith(spiff)]

    assert extensions(laid_out) == extensions(original)
    assert len(extensions(original)) > 50


def test_the_layout_is_stable(laid_out: bytes) -> None:
    assert layout_file(laid_out, MAIN.name) == laid_out


def test_the_top_level_draws_lanes_as_bands_and_subprocesses_collapsed_on_planes_of_their_own(
    laid_out: bytes,
) -> None:
    root = etree.fromstring(laid_out)
    di = "{http://www.omg.org/spec/BPMN/20100524/DI}"
    planes = {p.get("bpmnElement"): p for p in root.iter(f"{di}BPMNPlane")}
    subprocesses = [n.get("id") for n in root.iter("{*}subProcess")]
    assert set(subprocesses) <= set(planes)
    top = planes["Collaboration_xinedai_overdue"]
    shapes = {s.get("bpmnElement"): s for s in top.iter(f"{di}BPMNShape")}
    for sub in subprocesses:
        if sub in shapes:
            assert shapes[sub].get("isExpanded") == "false"
    lanes = [s for s in shapes.values() if s.get("bpmnElement", "").startswith("Lane_")]
    ys = sorted(float(s.find("{*}Bounds").get("y")) for s in lanes)
    assert len(ys) == 2 and len(set(ys)) == 2  # collectors' main line, supervisors' review and handlers
    for lane in root.iter("{*}lane"):  # no lane on any plane is drawn empty
        assert lane.findall("{*}flowNodeRef"), lane.get("id")
    assert [f for f in check_layout(root) if f.kind == "outside_lane"] == []


@pytest.mark.parametrize("path", TEST_BUNDLES, ids=_name)
def test_the_layouter_draws_every_test_bundle_without_a_defect(path: Path) -> None:
    laid = layout_file(path.read_bytes(), path.name)
    assert {kind: n for kind, n in count_by_kind(check_file(laid, path.name)).items() if n} == {}


def test_boundary_events_on_one_activity_stand_apart_with_their_labels_clear(laid_out: bytes) -> None:
    root = etree.fromstring(laid_out)
    hosts: dict[str, list[str]] = {}
    for event in root.iter("{*}boundaryEvent"):
        hosts.setdefault(event.get("attachedToRef", ""), []).append(event.get("id", ""))
    crowded = {host: events for host, events in hosts.items() if len(events) > 1}
    assert crowded  # the shipped diagram has activities with several boundary events
    centres = {}
    for shape in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape"):
        bounds = shape.find("{*}Bounds")
        centres[shape.get("bpmnElement")] = float(bounds.get("x")) + float(bounds.get("width")) / 2
    for events in crowded.values():
        xs = sorted(centres[e] for e in events)
        assert min(b - a for a, b in pairwise(xs)) >= 100
    assert [f for f in check_layout(root) if f.kind == "label_overlap"] == []
