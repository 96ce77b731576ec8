"""Which templates can be the first message of a case, read from the diagrams at deploy.

The first-contact rules of the template lint (CBA guideline 2026-01-30: identify the institution
and the collector on first contact) apply to the templates of the outbound messages that can come
first: walking each executable process from its start event along sequence flows, into embedded
subprocesses and out through their end events and boundary events, the first contact-making
service task on every path. Event subprocesses are left out: they need an earlier event.
A `template` parameter that is not a literal cannot be resolved here and is skipped.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from lxml import etree

from ..engine.bundle import SPIFF_NS
from ..engine.xmlsafe import parse_untrusted_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Service-task operations that contact a person (their outbox channel is a contact channel).
CONTACT_OPERATIONS = frozenset(
    {"send_sms", "send_email", "send_registered_mail", "place_automated_call", "send_credit_report_notice"}
)
_B = f"{{{BPMN_NS}}}"


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _template_of(task: etree._Element) -> str | bool | None:
    """The template a contact service task sends; False when it is no contact task."""
    operator = task.find(f"{_B}extensionElements/{{{SPIFF_NS}}}serviceTaskOperator")
    if operator is None or operator.get("id") not in CONTACT_OPERATIONS:
        return False
    for parameter in operator.iter(f"{{{SPIFF_NS}}}parameter"):
        if parameter.get("id") == "template":
            try:
                value = ast.literal_eval(parameter.get("value") or "")
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, str) else None
    return None


class _Graph:
    """Successors of every flow node of one process, subprocesses flattened."""

    def __init__(self, process: etree._Element) -> None:
        self.nodes: dict[str, etree._Element] = {}
        self.next: dict[str, list[str]] = {}
        self._add_scope(process)

    def _add_scope(self, scope: etree._Element) -> None:
        for child in scope:
            if not isinstance(child.tag, str) or child.get("id") is None:
                continue
            self.nodes[child.get("id")] = child
            self.next.setdefault(child.get("id"), [])
        for flow in scope.iterchildren(f"{_B}sequenceFlow"):
            self.next.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        for child in scope:
            if _local(child) == "boundaryEvent":
                self.next.setdefault(child.get("attachedToRef"), []).append(child.get("id"))
            if _local(child) == "subProcess" and child.get("triggeredByEvent") != "true":
                self._add_scope(child)
                starts = [s.get("id") for s in child.iterchildren(f"{_B}startEvent")]
                ends = [e.get("id") for e in child.iterchildren(f"{_B}endEvent")]
                after = [
                    f.get("targetRef")
                    for f in scope.iterchildren(f"{_B}sequenceFlow")
                    if f.get("sourceRef") == child.get("id")
                ]
                self.next[child.get("id")] = [*starts, *self._boundaries(scope, child)]
                for end in ends:
                    self.next.setdefault(end, []).extend(after)

    @staticmethod
    def _boundaries(scope: etree._Element, node: etree._Element) -> list[str]:
        return [
            b.get("id")
            for b in scope.iterchildren(f"{_B}boundaryEvent")
            if b.get("attachedToRef") == node.get("id")
        ]


def first_message_templates(process: etree._Element) -> set[str]:
    """Template names of the contact service tasks that can be a case's first message."""
    graph = _Graph(process)
    starts = [s.get("id") for s in process.iterchildren(f"{_B}startEvent")]
    seen: set[str] = set()
    found: set[str] = set()
    queue = deque(starts)
    while queue:
        node_id = queue.popleft()
        if node_id in seen or node_id not in graph.nodes:
            continue
        seen.add(node_id)
        node = graph.nodes[node_id]
        if _local(node) == "serviceTask":
            template = _template_of(node)
            if template is not False:
                if isinstance(template, str) and template:
                    found.add(template)
                continue  # a message went out on this path: later ones are not first
        queue.extend(graph.next.get(node_id, []))
    return found


def first_contact_templates(files: Mapping[str, bytes]) -> frozenset[str]:
    """The bundle's template files that can be the first message of a case."""
    names: set[str] = set()
    for name in sorted(n for n in files if n.endswith(".bpmn")):
        tree, _errors = parse_untrusted_xml(files[name], name)
        if tree is None:
            continue
        for process in tree.getroot().iterchildren(f"{_B}process"):
            if process.get("isExecutable", "true") != "false":
                names |= first_message_templates(process)
    return frozenset(_files_of(names, (n for n in files if n.endswith(".j2"))))


def _files_of(templates: Iterable[str], files: Iterable[str]) -> set[str]:
    """render_template(name) finds `<name>*.j2` (e.g. sms_reminder → templates/sms_reminder.txt.j2)."""
    wanted = set(templates)
    return {f for f in files if any(PurePosixPath(f).name.split(".")[0] == t for t in wanted)}
