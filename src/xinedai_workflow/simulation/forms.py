"""Simulated staff fill a task's form: the model's choices and values, then whatever the form's
JSON Schema (including its if/then/else branches) still requires, checked before submitting."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator

from .borrowers import money, weighted

MONEY_HINT = "[0-9]{1,12}"


class FormNotFillable(ValueError):
    """The model and the form disagree (e.g. a choice the form's enum does not offer)."""


def required_fields(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    """Fields `schema` requires for `data`, following if/then/else and allOf."""
    found = list(schema.get("required") or [])
    if "if" in schema:
        matched = Draft202012Validator(schema["if"]).is_valid(data)
        branch = schema.get("then" if matched else "else")
        if isinstance(branch, Mapping):
            found += required_fields(branch, data)
    for part in schema.get("allOf") or []:
        if isinstance(part, Mapping):
            found += required_fields(part, data)
    return list(dict.fromkeys(found))


def _default(name: str, spec: Mapping[str, Any], today: date, owed: Decimal, data: Mapping[str, Any]) -> Any:
    kind = spec.get("type")
    if "enum" in spec:
        return spec["enum"][0]
    if "const" in spec:
        return spec["const"]
    if kind == "integer":
        return int(spec.get("minimum", 1))
    if kind == "number":
        return spec.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        items = spec.get("items") or {}
        return [items["enum"][0]] if "enum" in items else []
    pattern = str(spec.get("pattern", ""))
    if spec.get("format") == "date":
        return today.isoformat()
    if MONEY_HINT in pattern:
        if name == "monthly_amount":
            months = int(data.get("months") or 1)
            return str(max(money(owed / months), Decimal("0.01")))
        return str(max(owed, Decimal("0.01")))
    if pattern.startswith("^0\\."):
        return "0.3"
    return "模拟填写"


def fill_form(
    form: Mapping[str, Any] | None,
    task_name: str,
    config: Mapping[str, Any],
    rng: random.Random,
    today: date,
    owed: Decimal,
    preset: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Data for completing `task_name` that is valid for `form` (raises `FormNotFillable`)."""
    data: dict[str, Any] = dict(preset or {})
    if form is None:
        return data
    properties: Mapping[str, Any] = form.get("properties") or {}
    for field, weights in sorted((config.get("choices") or {}).items()):
        if field in properties and field not in data:
            offered = properties[field].get("enum")
            usable = {k: v for k, v in weights.items() if offered is None or k in offered}
            if not usable:
                raise FormNotFillable(f"{task_name}.{field}: none of {sorted(weights)} is in the form's enum")
            data[field] = weighted(rng, usable)
    for field, value in (config.get("values") or {}).items():
        if field in properties and field not in data:
            data[field] = value
    for field, days in (config.get("date_offsets_days") or {}).items():
        if field in properties and field not in data:
            data[field] = (today + timedelta(days=int(days))).isoformat()
    for _ in range(6):  # each filled field may open another branch
        missing = [f for f in required_fields(form, data) if f not in data]
        if not missing:
            break
        for field in missing:
            data[field] = _default(field, properties.get(field) or {}, today, owed, data)
    errors = sorted(Draft202012Validator(form).iter_errors(data), key=lambda e: list(map(str, e.path)))
    if errors:
        detail = "; ".join(f"{'/'.join(map(str, e.path)) or '(form)'}: {e.message}" for e in errors[:5])
        raise FormNotFillable(f"cannot fill the form of {task_name}: {detail}")
    return data
