"""Form `pattern`s evaluated in linear time (RE2), and checked when a form is deployed.

jsonschema evaluates ``pattern`` and ``patternProperties`` keys with Python's backtracking
``re``: ``"^(a+)+$"`` takes seconds on 28 characters and doubles with each one more. RE2 has no
backtracking (and so no back-references or look-arounds): a pattern it cannot compile is refused
at deploy, and every pattern (``pattern``, ``patternProperties`` and the ``additionalProperties``
that depend on them) is evaluated by it on complete. RE2's ``\\d`` is ASCII ``[0-9]``, as a bank's
forms mean it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

MAX_PATTERN_LENGTH = 1000


class UnsupportedPattern(ValueError):
    """A form pattern RE2 cannot run (or too long)."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """The RE2 program of a form pattern, or `UnsupportedPattern`."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsupportedPattern(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern)
    except re2.error as err:
        raise UnsupportedPattern(
            f"pattern {pattern[:80]!r} is not supported by the linear-time engine (RE2): {err}"
        ) from err


def schema_patterns(schema: Any) -> Iterator[str]:
    """Every ``pattern`` and ``patternProperties`` key in a JSON Schema."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield node["pattern"]
            props = node.get("patternProperties")
            if isinstance(props, dict):
                yield from (key for key in props if isinstance(key, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _uses(schema: Any, keyword: str) -> bool:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if keyword in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def check_form_patterns(schema: Any) -> list[str]:
    """Problems with the patterns of a form (empty: every pattern runs on RE2)."""
    problems = []
    for pattern in schema_patterns(schema):
        try:
            compile_pattern(pattern)
        except UnsupportedPattern as err:
            problems.append(str(err))
    if _uses(schema, "patternProperties") and _uses(schema, "unevaluatedProperties"):
        problems.append(UNEVALUATED_WITH_PATTERNS)
    return problems


# jsonschema's unevaluatedProperties matches patternProperties keys with Python's `re` deep inside
UNEVALUATED_WITH_PATTERNS = (
    "patternProperties cannot be combined with unevaluatedProperties in a form (use additionalProperties)"
)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        compiled = compile_pattern(pattern)
    except UnsupportedPattern as err:
        yield ValidationError(f"the form cannot be checked: {err}")
        return
    if compiled.search(instance) is None:
        yield ValidationError(f"{instance[:100]!r} does not match {pattern!r}")


def _matches(patterns: Any, key: str) -> bool:
    return any(compile_pattern(pattern).search(key) is not None for pattern in patterns)


def _pattern_properties(
    validator: Any, pattern_properties: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    try:
        compiled = [(compile_pattern(p), p, sub) for p, sub in pattern_properties.items()]
    except UnsupportedPattern as err:
        yield ValidationError(f"the form cannot be checked: {err}")
        return
    for regex, pattern, subschema in compiled:
        for key, value in instance.items():
            if regex.search(key) is not None:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """jsonschema's `additionalProperties`, with the patternProperties keys matched by RE2."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    try:
        extras = [k for k in instance if k not in properties and not _matches(patterns, k)]
    except UnsupportedPattern as err:
        yield ValidationError(f"the form cannot be checked: {err}")
        return
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        joined = ", ".join(repr(extra) for extra in sorted(extras))
        if patterns:
            yield ValidationError(f"{joined} not matching any of the regexes: {', '.join(sorted(patterns))}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({joined} unexpected)")


def _unevaluated_properties(
    validator: Any, unevaluated: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if _uses(validator.schema, "patternProperties"):  # refused at deploy; never `re` on input
        yield ValidationError(f"the form cannot be checked: {UNEVALUATED_WITH_PATTERNS}")
        return
    standard = Draft202012Validator.VALIDATORS["unevaluatedProperties"]
    yield from standard(validator, unevaluated, instance, schema)


LinearValidator = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
    },
)
