"""What changed between two versions of a process key, element by element and file by file.

Diagrams and decision tables are compared as models, not as text: elements (by id) added,
removed or changed, with the attribute, extension property, script, condition, timer expression
or documentation that changed; DMN rules (rows) with the cells that changed. The other files
(templates, forms, policy, tests) are compared as unified text diffs. Diagram layout (BPMN DI) is
ignored: moving a shape is not a change of the process.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from lxml import etree

from ..engine.xmlsafe import parse_untrusted_xml

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/", "http://www.omg.org/spec/DMN/")
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
DI_MARKERS = ("/DI", "/DD/", "BPMN/20100524/DI", "DMN/20191111/DMNDI")
MAX_TEXT_DIFF_LINES = 400
_CELLS = ("inputEntry", "outputEntry")


def _is_layout(tag: str) -> bool:
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    return any(marker in namespace for marker in DI_MARKERS)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def _facets(node: etree._Element) -> dict[str, str]:
    """What an element says: its attributes and the content that belongs to it, not its children
    that are elements of their own (those have ids and are compared on their own)."""
    defaults = _BPMN_DEFAULTS if node.tag.startswith(BPMN) else {}
    facets = {
        f"@{_local(k)}": v
        for k, v in node.attrib.items()
        if _local(k) != "id" and defaults.get(_local(k)) != v
    }
    for child in node:
        if not isinstance(child.tag, str) or (child.get("id") and _local(child.tag) not in _OWN_WITH_ID):
            continue
        name = _local(child.tag)
        if child.tag == f"{BPMN}extensionElements":
            for ext in child.iter():
                if not isinstance(ext.tag, str) or ext is child:
                    continue
                if ext.tag == f"{SPIFF}property":
                    facets[f"property {ext.get('name')}"] = ext.get("value") or ""
                elif ext.tag == f"{SPIFF}parameter":
                    facets[f"parameter {ext.get('id')}"] = ext.get("value") or ""
                elif ext.tag == f"{SPIFF}serviceTaskOperator":
                    facets["serviceTaskOperator"] = ext.get("id") or ""
                elif ext.text and ext.text.strip():
                    facets[_local(ext.tag)] = ext.text.strip()
        elif name in ("incoming", "outgoing", "flowNodeRef"):
            facets.setdefault(name, "")
            facets[name] = " ".join(sorted(filter(None, [*facets[name].split(" "), _text(child)])))
        elif len(child):
            for inner in child.iter():
                if isinstance(inner.tag, str) and inner is not child and _text(inner):
                    facets[f"{name}.{_local(inner.tag)}"] = _text(inner)
        elif _text(child):
            facets[name] = _text(child)
    return facets


# attribute values the BPMN 2.0 schema gives when the attribute is absent: a modeler that writes
# or drops them (bpmn-js drops cancelActivity="true") has not changed the process
_BPMN_DEFAULTS = {
    "cancelActivity": "true",
    "isInterrupting": "true",
    "parallelMultiple": "false",
    "triggeredByEvent": "false",
    "isForCompensation": "false",
    "startQuantity": "1",
    "completionQuantity": "1",
    "instantiate": "false",
    "isClosed": "false",
    "processType": "None",
    "gatewayDirection": "Unspecified",
}


# children with ids that are part of their parent's meaning (a timer's definition, a DMN cell)
_OWN_WITH_ID = frozenset(
    {
        "timerEventDefinition",
        "messageEventDefinition",
        "signalEventDefinition",
        "errorEventDefinition",
        "escalationEventDefinition",
        "conditionalEventDefinition",
        "terminateEventDefinition",
        "inputEntry",
        "outputEntry",
        "inputExpression",
        "conditionExpression",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
    }
)


def _elements(tree: etree._ElementTree) -> dict[str, tuple[str, dict[str, str]]]:
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for node in tree.getroot().iter():
        if not isinstance(node.tag, str) or _is_layout(node.tag):
            continue
        element_id = node.get("id")
        if not element_id or element_id in found or _local(node.tag) in _OWN_WITH_ID:
            continue
        kind = _local(node.tag)
        facets = _facets(node)
        if kind == "rule":
            cells = [
                _text(entry.find("{*}text"))
                for entry in node
                if _local(entry.tag) in ("inputEntry", "outputEntry")
            ]
            facets = {
                "cells": " | ".join(cells),
                **{
                    k: v
                    for k, v in facets.items()
                    if not k.startswith("inputEntry") and not k.startswith("outputEntry")
                },
            }
        found[element_id] = (kind, facets)
    return found


_CONTAINERS = {"process": "process", "decision": "decision_id"}


def _containers(tree: etree._ElementTree) -> dict[str, tuple[str, str]]:
    """element id → ("process", id) of the BPMN process or ("decision_id", id) of the DMN decision
    holding it, so a change can be drawn on the right diagram or table."""
    found: dict[str, tuple[str, str]] = {}
    for container in tree.getroot().iter():
        if not isinstance(container.tag, str) or _local(container.tag) not in _CONTAINERS:
            continue
        label, container_id = _CONTAINERS[_local(container.tag)], container.get("id")
        if not container_id:
            continue
        for node in container.iter():
            element_id = node.get("id") if isinstance(node.tag, str) else None
            if element_id and node is not container:
                found.setdefault(element_id, (label, container_id))
    return found


def _model_diff(name: str, old: bytes, new: bytes) -> list[dict[str, Any]] | None:
    old_tree, _ = parse_untrusted_xml(old, name)
    new_tree, _ = parse_untrusted_xml(new, name)
    if old_tree is None or new_tree is None:
        return None
    before, after = _elements(old_tree), _elements(new_tree)
    within = {**_containers(old_tree), **_containers(new_tree)}
    changes: list[dict[str, Any]] = []

    def located(change: dict[str, Any]) -> dict[str, Any]:
        place = within.get(change["element_id"])
        return {**change, place[0]: place[1]} if place is not None else change

    for element_id in sorted(set(before) | set(after)):
        if element_id not in before:
            kind, _facets_after = after[element_id]
            changes.append(located({"file": name, "element_id": element_id, "type": kind, "change": "added"}))
        elif element_id not in after:
            kind, _facets_before = before[element_id]
            changes.append(
                located({"file": name, "element_id": element_id, "type": kind, "change": "removed"})
            )
        else:
            kind, old_facets = before[element_id]
            _, new_facets = after[element_id]
            if old_facets == new_facets:
                continue
            changed = [
                {"attribute": key, "old": old_facets.get(key), "new": new_facets.get(key)}
                for key in sorted(set(old_facets) | set(new_facets))
                if old_facets.get(key) != new_facets.get(key)
            ]
            changes.append(
                located(
                    {
                        "file": name,
                        "element_id": element_id,
                        "type": kind,
                        "change": "changed",
                        "changes": changed,
                    }
                )
            )
    return changes


def _text_diff(name: str, old: bytes, new: bytes) -> str:
    lines = difflib.unified_diff(
        old.decode("utf-8", errors="replace").splitlines(keepends=True),
        new.decode("utf-8", errors="replace").splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    out = list(lines)
    if len(out) > MAX_TEXT_DIFF_LINES:
        out = [*out[:MAX_TEXT_DIFF_LINES], f"... ({len(out) - MAX_TEXT_DIFF_LINES} more lines)\n"]
    return "".join(out)


def version_diff(old: Mapping[str, bytes] | None, new: Mapping[str, bytes]) -> dict[str, Any]:
    """`{"elements": [...], "files": [...]}` from `old` to `new` (all added when `old` is None)."""
    old = old or {}
    elements: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            files.append({"file": name, "change": "added"})
            continue
        if name not in new:
            files.append({"file": name, "change": "removed"})
            continue
        if old[name] == new[name]:
            continue
        if name.endswith((".bpmn", ".dmn")):
            model = _model_diff(name, old[name], new[name])
            if model is not None:
                files.append({"file": name, "change": "changed"})
                elements.extend(model)
                continue
        files.append({"file": name, "change": "changed", "diff": _text_diff(name, old[name], new[name])})
    return {"elements": elements, "files": files}
