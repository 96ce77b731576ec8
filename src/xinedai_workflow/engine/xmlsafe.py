"""Parsing untrusted XML (uploaded BPMN/DMN): no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

import re

from lxml import etree

from .problems import Problem

MAX_XML_BYTES = 5 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
XINCLUDE = "{http://www.w3.org/2001/XInclude}"
# an encoding other than UTF-8 could spell "<!DOCTYPE" in bytes the check above does not see
_DECLARED_ENCODING = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']"
)
_UTF8 = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}


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
    declared = _DECLARED_ENCODING.match(content)
    if (
        head.startswith((b"\xff\xfe", b"\xfe\xff"))
        or b"\x00" in content[:200]
        or (declared is not None and declared.group(1).lower() not in _UTF8)
    ):
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
        # never expanded here, but a later reader of the stored file might: refuse it outright
        if isinstance(node.tag, str) and node.tag.startswith(XINCLUDE):
            return None, [Problem(filename, node.sourceline, None, "XInclude is not allowed")]
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
