"""A user task's instructions in a draft's diagrams, and the sample case to render them against."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..engine.test_files import is_test_file
from ..engine.xmlsafe import parse_untrusted_xml
from ..errors import NotFound

SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


def instructions_of(files: Mapping[str, bytes], element_id: str) -> str | None:
    """The `spiffworkflow:instructionsForEndUser` text of element `element_id` (None: it has none);
    NotFound when no diagram of the draft has such an element."""
    for name in sorted(n for n in files if n.endswith(".bpmn")):
        tree, _problems = parse_untrusted_xml(files[name], name)
        if tree is None:
            continue
        for node in tree.getroot().iter():
            if isinstance(node.tag, str) and node.get("id") == element_id:
                found = node.find(f".//{SPIFF}instructionsForEndUser")
                return found.text if found is not None and found.text else None
    raise NotFound(f"no diagram of the draft has an element {element_id!r}", code="unknown_element")


def _first_test_variables(files: Mapping[str, bytes]) -> dict[str, Any] | None:
    for name in sorted(n for n in files if is_test_file(n)):
        try:
            cases = json.loads(files[name].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        for case in cases.values() if isinstance(cases, dict) else ():
            variables = case.get("variables") if isinstance(case, dict) else None
            if isinstance(variables, dict):
                return variables
    return None


def sample_case(
    samples: Mapping[str, Mapping[str, dict[str, Any]]], files: Mapping[str, bytes], element_id: str
) -> tuple[dict[str, Any], str]:
    """The variables to render against and where they come from: a process test's case at the
    task, else the start variables of the draft's first test case, else nothing."""
    for key in sorted(samples):
        if element_id in samples[key]:
            return dict(samples[key][element_id]), "process_test"
    variables = _first_test_variables(files)
    if variables is not None:
        return dict(variables), "test_start_variables"
    return {}, "empty"
