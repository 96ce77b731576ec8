"""Parsing untrusted XML (uploaded BPMN/DMN): no DTDs, no entities, no network, bounded size.

UTF-8 and the ASCII-compatible encodings (ISO-8859-*, windows-125*, GB18030, ...) are read;
encodings that could spell a DOCTYPE in bytes a byte search misses (UTF-16, UTF-7) are refused.
"""

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
# Encodings in which every ASCII character is the same single byte as in ASCII, so decoding with
# Python's codec and searching the text finds a DOCTYPE exactly where libxml2 would see one.
_ASCII_COMPATIBLE = re.compile(
    r"^(iso-?8859-\d{1,2}|latin-?[1-9]|windows-125\d|cp125\d|gb2312|gbk|gb18030|big5|"
    r"shift_jis|euc-jp|euc-kr|koi8-r|koi8-u)$"
)


_DOCTYPE_TEXT = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING_HINT = (
    "encoding {} is not accepted: save the file as UTF-8 (or an ASCII-compatible encoding such as "
    "ISO-8859-1 or windows-1252)"
)


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
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:200]:
        return None, [Problem(filename, 1, None, _ENCODING_HINT.format("UTF-16/UTF-32"))]
    text: bytes | str = content
    if declared is not None and declared.group(1).lower() not in _UTF8:
        encoding = declared.group(1).decode("ascii")
        if not _ASCII_COMPATIBLE.match(encoding.lower()):
            return None, [Problem(filename, 1, None, _ENCODING_HINT.format(encoding))]
        try:
            text = content.decode(encoding)
        except (LookupError, UnicodeDecodeError) as err:
            return None, [Problem(filename, 1, None, f"the file is not valid {encoding}: {err}")]
    match = _DOCTYPE_TEXT.search(text) if isinstance(text, str) else _DOCTYPE.search(text)
    if match:
        before = text[: match.start()]
        line = (before.count("\n") if isinstance(before, str) else before.count(b"\n")) + 1
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
