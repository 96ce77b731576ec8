"""Parsing untrusted XML (uploaded BPMN/DMN): no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

import re

from lxml import etree

from .problems import Problem

MAX_XML_BYTES = 5 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )


def parse_untrusted_xml(content: bytes, filename: str) -> tuple[etree._ElementTree | None, list[Problem]]:
    """Parse `content` safely; return the tree or the problems that refuse it."""
    if len(content) > MAX_XML_BYTES:
        return None, [
            Problem(filename, None, None, f"file is larger than {MAX_XML_BYTES // (1024 * 1024)} MB")
        ]
    head = content.lstrip()[:4].lower()
    if not content.strip():
        return None, [Problem(filename, None, None, "file is empty")]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:200]:
        return None, [Problem(filename, 1, None, "only UTF-8 XML is accepted")]
    match = _DOCTYPE.search(content)
    if match:
        line = content[: match.start()].count(b"\n") + 1
        return None, [Problem(filename, line, None, "DTDs and entity declarations are not allowed")]
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except etree.XMLSyntaxError as err:
        return None, [Problem(filename, err.lineno or None, None, f"malformed XML: {err.msg}")]
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None, [Problem(filename, 1, None, "DTDs are not allowed")]
    for node in tree.iter():
        if isinstance(node, etree._Entity):
            return None, [Problem(filename, node.sourceline, None, "entities are not allowed")]
    return tree, []


def element_lines(tree: etree._ElementTree) -> dict[str, int]:
    """Map each element id in the document to the line it starts on."""
    lines: dict[str, int] = {}
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        element_id = node.get("id")
        if element_id and node.sourceline and element_id not in lines:
            lines[element_id] = node.sourceline
    return lines
