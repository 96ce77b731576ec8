"""A BPMN file in and out: parse it safely, check it, lay it out, and prove the semantics kept."""

from __future__ import annotations

import re

from lxml import etree

from ..problems import Problem
from ..xmlsafe import parse_untrusted_xml
from .check import Finding, check_layout
from .layout import apply_layout
from .model import BPMNDI

_DIAGRAM_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?BPMNDiagram\b")
_DIAGRAM_CLOSE = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?BPMNDiagram\s*>")
_DEFINITIONS_CLOSE = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?definitions\s*>\s*$")


class DiagramUnreadable(ValueError):
    """The file is not XML the safe parser accepts."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems) or "unreadable")
        self.problems = problems


def _parse(content: bytes, filename: str) -> etree._ElementTree:
    tree, problems = parse_untrusted_xml(content, filename)
    if tree is None:
        raise DiagramUnreadable(problems)
    return tree


def check_file(content: bytes, filename: str = "diagram.bpmn") -> list[Finding]:
    """The layout findings of one .bpmn file."""
    return check_layout(_parse(content, filename).getroot())


def layout_file(content: bytes, filename: str = "diagram.bpmn") -> bytes:
    """The file with new DI for every plane; the bytes before the DI stay exactly as they were."""
    tree = _parse(content, filename)
    root = tree.getroot()
    apply_layout(root)
    encoding = tree.docinfo.encoding or "UTF-8"
    declared = [
        f' xmlns:{prefix}="{uri}"'.encode() for prefix, uri in root.nsmap.items() if prefix is not None
    ]
    di = b""
    for diagram in root.iterfind(f"{{{BPMNDI}}}BPMNDiagram"):
        text = etree.tostring(diagram, encoding=encoding, xml_declaration=False, with_tail=False)
        tag_end = text.index(b">")
        opening = text[:tag_end]
        for declaration in declared:  # the root declares these already
            opening = opening.replace(declaration, b"")
        di += b"  " + opening + text[tag_end:] + b"\n"
    closing = _DEFINITIONS_CLOSE.search(content)
    if closing is None:  # not shaped as expected: let lxml write the whole document
        return etree.tostring(tree, xml_declaration=True, encoding=encoding) + b"\n"
    first = _DIAGRAM_OPEN.search(content)
    start = closing.start()
    if first is not None:
        start = first.start()
        while start > 0 and content[start - 1 : start] in (b" ", b"\t"):
            start -= 1
        if _strip_di(content[first.start() : closing.start()]):  # semantics after the DI
            return etree.tostring(tree, xml_declaration=True, encoding=encoding) + b"\n"
    head = content[:start]
    if not head.endswith(b"\n"):
        head += b"\n"
    return head + di + content[closing.start() :].rstrip() + b"\n"


def _strip_di(region: bytes) -> bytes:
    """What is left of a region of the file once its BPMNDiagram elements are cut out."""
    rest = b""
    position = 0
    while True:
        opening = _DIAGRAM_OPEN.search(region, position)
        if opening is None:
            return rest + region[position:].strip()
        rest += region[position : opening.start()].strip()
        closing = _DIAGRAM_CLOSE.search(region, opening.end())
        if closing is None:
            return rest + region[opening.start() :]
        position = closing.end()


def semantics_c14n(content: bytes, filename: str = "diagram.bpmn") -> bytes:
    """The canonical XML of the file without its DI: equal before and after a layout."""
    root = _parse(content, filename).getroot()
    for diagram in list(root.iterfind(f"{{{BPMNDI}}}BPMNDiagram")):
        root.remove(diagram)
    for node in root.iter():  # whitespace between elements is layout, not meaning
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    return etree.tostring(root, method="c14n")
