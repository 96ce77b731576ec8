"""Form `pattern`s evaluated in linear time (RE2), and checked when a form is deployed.

jsonschema evaluates ``pattern`` with Python's backtracking ``re``: ``"^(a+)+$"`` takes seconds on
28 characters and doubles with each one more. RE2 has no backtracking (and so no back-references
or look-arounds): a pattern it cannot compile is refused at deploy, and every pattern is evaluated
by it on complete. RE2's ``\\d`` is ASCII ``[0-9]``, as a bank's forms mean it.
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


def check_form_patterns(schema: Any) -> list[str]:
    """Problems with the patterns of a form (empty: every pattern runs on RE2)."""
    problems = []
    for pattern in schema_patterns(schema):
        try:
            compile_pattern(pattern)
        except UnsupportedPattern as err:
            problems.append(str(err))
    return problems


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


LinearValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
