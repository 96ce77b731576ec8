"""References inside a BPMN file that must resolve: flows, boundary events, defaults, messages.

SpiffWorkflow finds a dangling reference late and names the wrong element (a flow to a missing
target is reported as "found two items, perhaps a form has the same ID?" on the gateway). This
check reads the XML first and names the flow (or event) and the missing id, with its line.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .problems import Problem

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_CONTAINERS = (f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction", f"{BPMN}adHocSubProcess")
_NOT_FLOW_NODES = frozenset(
    {
        f"{BPMN}{name}"
        for name in (
            "sequenceFlow",
            "laneSet",
            "lane",
            "dataObject",
            "dataObjectReference",
            "dataStoreReference",
            "textAnnotation",
            "association",
            "group",
            "property",
            "ioSpecification",
            "extensionElements",
            "documentation",
            "incoming",
            "outgoing",
        )
    }
)


def _children(container: etree._Element) -> Iterator[etree._Element]:
    for child in container:
        if isinstance(child.tag, str):
            yield child


def _duplicates(file: str, root: etree._Element) -> list[Problem]:
    """Flow elements (children of a process or subprocess) and top-level definitions sharing an id;
    data items of a loop may share one on purpose (input and output of the same variable)."""
    seen: dict[str, int] = {}
    first: dict[str, etree._Element] = {}
    problems = []
    for node in root.iter():
        parent = node.getparent()
        if (
            not isinstance(node.tag, str)
            or not node.tag.startswith(BPMN)
            or parent is None
            or (parent is not root and parent.tag not in _CONTAINERS)
        ):
            continue  # diagram interchange ids, data items, properties: not flow elements
        element_id = node.get("id")
        if not element_id:
            continue
        if element_id in seen and _same_declaration(first[element_id], node):
            continue  # the same declaration twice (a data object drawn twice): harmless
        if element_id in seen:
            problems.append(
                Problem(
                    file,
                    node.sourceline,
                    element_id,
                    f"id {element_id!r} is used twice (lines {seen[element_id]} and {node.sourceline}): "
                    "give each element its own id",
                )
            )
        else:
            seen[element_id] = node.sourceline or 0
            first[element_id] = node
    return problems


def _same_declaration(a: etree._Element, b: etree._Element) -> bool:
    return a.tag == b.tag and dict(a.attrib) == dict(b.attrib) and len(a) == 0 and len(b) == 0


def _container_problems(file: str, container: etree._Element, messages: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    nodes = {c.get("id"): c for c in _children(container) if c.tag not in _NOT_FLOW_NODES and c.get("id")}
    flows = {c.get("id"): c for c in _children(container) if c.tag == f"{BPMN}sequenceFlow"}
    where = f"{etree.QName(container).localname} {container.get('id')!r}"
    for flow_id, flow in flows.items():
        if not flow.get("sourceRef") and not flow.get("targetRef"):
            continue  # a leftover that connects nothing; the engine ignores it too
        for attribute in ("sourceRef", "targetRef"):
            ref = flow.get(attribute)
            if not ref:
                problems.append(
                    Problem(file, flow.sourceline, flow_id, f"sequence flow {flow_id!r} has no {attribute}")
                )
            elif ref not in nodes:
                problems.append(
                    Problem(
                        file,
                        flow.sourceline,
                        flow_id,
                        f"sequence flow {flow_id!r} {attribute} {ref!r} is not an element of {where}: "
                        "point it at an existing element or delete the flow",
                    )
                )
    for node_id, node in nodes.items():
        attached = node.get("attachedToRef")
        if node.tag == f"{BPMN}boundaryEvent" and attached not in nodes:
            problems.append(
                Problem(
                    file,
                    node.sourceline,
                    node_id,
                    f"boundary event {node_id!r} is attached to {attached!r}, which is not an element of "
                    f"{where}",
                )
            )
        default = node.get("default")
        if default and default not in flows:
            problems.append(
                Problem(
                    file,
                    node.sourceline,
                    node_id,
                    f"{node_id!r} names default flow {default!r}, which is not a sequence flow of {where}",
                )
            )
        for definition in node.iter(f"{BPMN}messageEventDefinition"):
            ref = definition.get("messageRef")
            if ref and ref not in messages:
                problems.append(
                    Problem(
                        file,
                        definition.sourceline,
                        node_id,
                        f"{node_id!r} refers to message {ref!r}, which the file does not define",
                    )
                )
        if node.tag in _CONTAINERS:
            problems.extend(_container_problems(file, node, messages))
    return problems


def reference_problems(file: str, tree: etree._ElementTree) -> list[Problem]:
    """Duplicate ids and references that point at nothing, each naming the referring element."""
    root = tree.getroot()
    problems = _duplicates(file, root)
    messages = {m.get("id", "") for m in root.iter(f"{BPMN}message")}
    for process in root.iter(f"{BPMN}process"):
        problems.extend(_container_problems(file, process, messages))
    return problems
