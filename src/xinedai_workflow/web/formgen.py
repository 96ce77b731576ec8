"""A task's JSON Schema as HTML form fields, and the posted form back as the JSON the schema
describes. Validation is the server's own (`forms.schema_errors`, the same call the API makes on
complete), so the messages a person sees are exactly the API's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TEXTAREA_MIN_LENGTH = 120
NOTE_NAMES = frozenset({"notes", "note", "comment", "remarks"})


@dataclass
class Field:
    name: str
    label: str
    widget: str  # select | textarea | input | checkbox
    input_type: str = "text"
    options: list[str] = field(default_factory=list)
    required: bool = False
    value: str = ""
    error: str | None = None
    hint: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)


def _label(name: str, prop: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    ui_prop = ui.get(name) if isinstance(ui.get(name), Mapping) else {}
    return str((ui_prop or {}).get("ui:title") or prop.get("title") or name.replace("_", " "))


def form_fields(
    schema: Mapping[str, Any] | None,
    ui_schema: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
) -> list[Field]:
    """One field per top-level property, in the UI schema's `ui:order` when it has one."""
    if not schema:
        return []
    props: Mapping[str, Any] = schema.get("properties") or {}
    ui = ui_schema or {}
    order = [n for n in ui.get("ui:order", []) if n in props] + [
        n for n in props if n not in ui.get("ui:order", [])
    ]
    required = set(schema.get("required") or ())
    fields = []
    for name in order:
        prop = props[name] if isinstance(props[name], Mapping) else {}
        kind = prop.get("type")
        raw = values.get(name)
        f = Field(
            name=name,
            label=_label(name, prop, ui),
            widget="input",
            required=name in required,
            value="" if raw is None else str(raw),
            error=errors.get(name),
            hint=prop.get("description"),
        )
        if "enum" in prop:
            f.widget = "select"
            f.options = [str(o) for o in prop["enum"]]
        elif kind == "boolean":
            f.widget = "checkbox"
        elif kind in ("integer", "number"):
            f.input_type = "number"
            f.attrs["step"] = "1" if kind == "integer" else "any"
        elif prop.get("format") == "date":
            f.input_type = "date"
        elif prop.get("format") == "date-time":
            f.input_type = "datetime-local"
        elif int(prop.get("maxLength") or 0) >= TEXTAREA_MIN_LENGTH or name in NOTE_NAMES:
            f.widget = "textarea"
        if "maxLength" in prop:
            f.attrs["maxlength"] = str(prop["maxLength"])
        if "pattern" in prop:
            f.attrs["pattern"] = str(prop["pattern"])
        fields.append(f)
    return fields


def _convert(prop: Mapping[str, Any], text: str) -> Any:
    kind = prop.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            # JSON numbers; money in forms is a string pattern, never a float
            return int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text  # the schema check names the field
    return text


def parse_form(schema: Mapping[str, Any] | None, form: Mapping[str, str]) -> dict[str, Any]:
    """The posted fields as typed JSON; empty fields are left out (so `required` reports them)."""
    props: Mapping[str, Any] = (schema or {}).get("properties") or {}
    data: dict[str, Any] = {}
    for name, prop in props.items():
        prop = prop if isinstance(prop, Mapping) else {}
        if prop.get("type") == "boolean":
            data[name] = form.get(name) in ("on", "true", "1")
            continue
        text = (form.get(name) or "").strip()
        if text:
            data[name] = _convert(prop, text)
    return data
