"""Checks on one untrusted draft file before it is stored: its name and that it parses as its type."""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..engine.bundle import check_file_name
from ..engine.xmlsafe import MAX_XML_BYTES, parse_untrusted_xml

MEDIA_TYPES = {
    ".bpmn": "application/xml",
    ".dmn": "application/xml",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".md": "text/markdown; charset=utf-8",
}


def problem(
    file: str | None, message: str, line: int | None = None, element_id: str | None = None
) -> dict[str, Any]:
    """One problem in the studio's shape (an error unless told otherwise)."""
    return {"file": file, "line": line, "element_id": element_id, "message": message, "severity": "error"}


def media_type(name: str) -> str:
    for suffix, media in MEDIA_TYPES.items():
        if name.endswith(suffix):
            return media
    return "text/plain; charset=utf-8"


def name_problems(name: str) -> list[dict[str, Any]]:
    """Why `name` cannot name a draft file (the deploy's rule: relative, no '..', known suffix)."""
    why = check_file_name(name)
    return [problem(name, why)] if why else []


def content_problems(name: str, content: bytes) -> list[dict[str, Any]]:
    """Why `content` is not a readable file of its type (safe XML, JSON, YAML, UTF-8 text)."""
    if len(content) > MAX_XML_BYTES:
        return [problem(name, f"larger than {MAX_XML_BYTES} bytes")]
    if name.endswith((".bpmn", ".dmn")):
        _tree, found = parse_untrusted_xml(content, name)
        return [problem(p.file, p.message, p.line, p.element_id) for p in found]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        return [problem(name, f"not UTF-8 text: {err}", content[: err.start].count(b"\n") + 1)]
    if name.endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as err:
            return [problem(name, f"invalid JSON: {err.msg}", err.lineno)]
    elif name.endswith((".yaml", ".yml")):
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            return [problem(name, f"invalid YAML: {err}", mark.line + 1 if mark is not None else None)]
    return []
