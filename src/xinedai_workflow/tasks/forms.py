"""Task forms (JSON Schema, validated on the server) and task instructions (Jinja2, sandboxed)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

_jinja = ImmutableSandboxedEnvironment(autoescape=False)
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
    validator = Draft202012Validator(schema, format_checker=_formats)
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


@lru_cache(maxsize=512)
def _template(source: str) -> Any:
    return _jinja.from_string(source)


def render_instructions(source: str | None, variables: dict[str, Any]) -> str | None:
    """Render a task's `instructionsForEndUser` with the case variables (sandboxed Jinja2)."""
    if not source:
        return None
    try:
        return str(_template(source).render(**variables))
    except TemplateError as err:
        return f"{source}\n\n[instructions could not be rendered: {err}]"
