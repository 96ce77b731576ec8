"""The studio's modeler keeps what it does not change: the shipped diagram, loaded into the
bpmn-js Modeler with our spiffworkflow: moddle and saved without an edit, has the same elements,
attributes, extension elements and texts as the file (Debian's chromium, a real uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree  # our own shipped file and our own page's output

import pytest

from tests.scenarios.conftest import Flow
from tests.web.conftest import SCREENSHOTS, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SHIPPED = Path(__file__).resolve().parents[2] / "processes" / "xinedai_overdue.bpmn"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
# attributes at their BPMN default, which bpmn-js drops (cancelActivity) or writes (isMarkerVisible);
# SpiffWorkflow reads a missing cancelActivity as "true" (event_parsers.py)
DEFAULTS = {("boundaryEvent", "cancelActivity"): "true", ("BPMNShape", "isMarkerVisible"): "true"}


def _number(value: str) -> str:
    try:
        return repr(float(value))
    except ValueError:
        return value


def semantic(xml: str) -> list[tuple[str, str, tuple[tuple[str, str], ...], str]]:
    """Every element as (parent path, tag, sorted attributes, stripped text), in document order.

    Layout numbers are compared as numbers ("100" = "100.0"); the exporter's own attributes
    (exporter, exporterVersion) are not part of the process, nor are attributes at their default."""
    root = ElementTree.fromstring(xml.encode())
    out: list[tuple[str, str, tuple[tuple[str, str], ...], str]] = []

    def walk(node: Any, path: str) -> None:
        attrs = []
        for k, v in node.attrib.items():
            if k in ("exporter", "exporterVersion") or DEFAULTS.get((node.tag.split("}")[1], k)) == v:
                continue
            if node.tag.startswith(("{http://www.omg.org/spec/DD", BPMNDI)):
                v = _number(v)
            attrs.append((k, v))
        out.append((path, node.tag, tuple(sorted(attrs)), (node.text or "").strip()))
        for child in node:
            walk(child, f"{path}/{node.tag}#{node.get('id', '')}")

    walk(root, "")
    return out


def test_the_shipped_diagram_survives_a_save_without_changes(flow: Flow, page: Any) -> None:
    sign_in(page, "connie")
    page.goto("/studio/definitions/xinedai_overdue/1")
    page.wait_for_selector("#studio[data-ready=true], #studio[data-error]", state="attached", timeout=20000)
    assert page.locator("#studio").get_attribute("data-error") is None, (page.problems, page.content()[:300])
    saved = page.evaluate("window.studioModeler.saveXML({format: true}).then((r) => r.xml)")
    original = semantic(SHIPPED.read_text(encoding="utf-8"))
    again = semantic(saved)
    missing = [e for e in original if e not in again]
    added = [e for e in again if e not in original]
    assert (missing, added) == ([], []), (missing[:5], added[:5])
    assert len(again) == len(original)

    # the spiffworkflow: properties of a user task are in the panel
    page.evaluate("window.studioSelect('call_borrower')")
    page.click("[data-group-id=group-spiffworkflow] .bio-properties-panel-group-header")
    page.wait_for_selector("select[name=formJsonSchemaFilename]")
    assert page.locator("select[name=formJsonSchemaFilename]").input_value() == "forms/call_outcome.json"
    assert page.locator("input[name=dueIn]").input_value() == "P1D"
    assert page.locator("select[name=contactChannel]").input_value() == "call"
    (SCREENSHOTS / "studio").mkdir(parents=True, exist_ok=True)
    shoot(page, "studio/deployed-modeler")
    assert page.problems == [], page.problems
