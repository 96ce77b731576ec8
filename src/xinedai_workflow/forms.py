"""Task forms (JSON Schema, validated on the server) and task instructions (Jinja2, sandboxed)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jsonschema import Draft202012Validator, FormatChecker

_jinja = ImmutableSandboxedEnvironment(autoescape=False)


def schema_errors(schema: dict[str, Any], data: Any) -> list[dict[str, Any]]:
    """Every way `data` fails `schema`, one entry per field (JSON Schema 2020-12, formats checked)."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [p for p in err.validator_value if p not in err.instance]
            for name in missing:
                errors.append(
                    {"field": f"{path}.{name}" if path else name, "message": f"'{name}' is required"}
                )
            continue
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set((err.schema or {}).get("properties", {}))
            for name in sorted(set(err.instance) - allowed):
                field = f"{path}.{name}" if path else name
                errors.append({"field": field, "message": "unexpected field"})
            continue
        errors.append({"field": path, "message": err.message})
    return errors


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
