"""Task forms (JSON Schema, validated on the server) and task instructions (Jinja2, sandboxed)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from ..domain.form_patterns import LinearValidator
from ..domain.template_limits import render_limited

log = logging.getLogger(__name__)
_formats = FormatChecker()


def _field(path: Any, name: str | None = None) -> str:
    parts = [str(p) for p in path]
    if name is not None:
        parts.append(name)
    return ".".join(parts)


def schema_errors(schema: dict[str, Any], data: Any) -> list[dict[str, Any]]:
    """Every way `data` fails `schema`, one entry per field (JSON Schema 2020-12, formats checked).

    A form the validator cannot use (e.g. an unresolvable `$ref`) is reported as one problem
    rather than an error of the server: the data cannot be accepted until the form is fixed.
    """
    validator = LinearValidator(schema, format_checker=_formats)  # `pattern` on RE2 (linear time)
    try:
        found = list(validator.iter_errors(data))
    except (SchemaError, Unresolvable) as unusable:
        return [{"field": "", "message": f"the task's form cannot be checked: {unusable}"}]
    problems: dict[str, str] = {}  # one problem per field (the first found)
    for err in found:
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in [p for p in err.validator_value if p not in err.instance]:
                problems.setdefault(_field(err.absolute_path, name), f"'{name}' is required")
        elif (
            err.validator == "additionalProperties"
            and isinstance(err.instance, dict)
            and isinstance(err.schema, dict)
            and "patternProperties" not in err.schema
        ):
            allowed = set(err.schema.get("properties", {}))
            for name in sorted(set(err.instance) - allowed):
                problems.setdefault(_field(err.absolute_path, name), "unexpected field")
        else:
            problems.setdefault(_field(err.absolute_path), err.message)
    return [{"field": field, "message": problems[field]} for field in sorted(problems)]


Renderer = Callable[[str, Mapping[str, Any]], str]


def render_instructions(
    source: str | None, variables: dict[str, Any], render: Renderer = render_limited
) -> str | None:
    """Render a task's `instructionsForEndUser` with the case variables (sandboxed Jinja2, within
    time and output limits). Any failure shows the template text with the reason, and is logged."""
    if not source:
        return None
    try:
        return str(render(source, variables))
    except Exception as err:  # instructions are data from a diagram: never a 500
        log.warning("task instructions could not be rendered: %s", err)
        return f"{source}\n\n[instructions could not be rendered: {err}]"
