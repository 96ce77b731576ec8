"""What a case's state can hold: checked on every value that leaves the sandbox.

A script may leave anything in task data (an exception object, bytes, a generator, a 5,000-deep
list, an int of a million digits, a lone surrogate); the state is JSON, the API answers JSON and
the history hashes canonical JSON. A value outside that set fails the step with a message that
names the variable, instead of failing later in the serializer, the API or the worker.

The check runs on every variable after every script (about 500 values per start of the shipped
diagram), so `check_storable` first tries `_surely_storable`: the same rules on exact built-in
types, without building the path of every value. Only when it is not sure (a value it does not
know, a subclass, a limit reached) does the full check run — and decide, with its message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

MAX_DEPTH = 32
MAX_INT_DIGITS = 4000
MAX_STRING_CHARS = 1_000_000
MAX_ITEMS = 200_000  # values inside one variable (list items, dict entries, nested)

_SCALARS = (bool, str, int, float, Decimal, date, datetime, timedelta, UUID, type(None))
_MAX_INT_BITS = MAX_INT_DIGITS * 3.33
_PLAIN_ATOMS = frozenset({bool, type(None), date, datetime, timedelta, UUID})  # always storable


class UnstorableValue(ValueError):
    """A value the case's state cannot hold."""


def _describe(path: str) -> str:
    return path or "the value"


def check_storable(value: Any, path: str = "") -> None:
    """Raise `UnstorableValue` unless `value` is JSON-like data the state can store.

    Allowed: ``None``, ``bool``, ``int`` (at most 4,000 digits), finite ``float``, ``str`` (valid
    Unicode), ``Decimal`` (finite), ``date``/``datetime``/``timedelta``/``UUID``, lists and tuples
    of those, and dicts with string keys; at most 32 levels deep and 200,000 values in all.
    """
    if not all_surely_storable([value]):
        _check_in_full(value, path)


def all_surely_storable(values: list[Any]) -> bool:
    """True only if `check_storable` would accept each of `values`; False: let it decide.

    The full check's rules on exact types only, without paths: the same values counted (all of
    them against the limit of one variable) and the same limits; a container at the depth limit
    is left to the full check rather than looked into."""
    seen = -1  # `values` itself is not a value
    stack: list[tuple[Any, int]] = [(values, 0)]
    while stack:
        container, depth = stack.pop()
        seen += 1
        if depth >= MAX_DEPTH:
            return False
        if type(container) is dict:
            try:  # all keys in one string: the same length and Unicode rules, checked in C
                keys = "".join(container)
            except TypeError:  # a key that is not a string
                return False
            if len(keys) > MAX_STRING_CHARS or not _text_ok(keys):
                return False
            items = container.values()
        else:
            items = container
        for item in items:
            kind = type(item)
            if kind is str:
                if len(item) > MAX_STRING_CHARS or not (item.isascii() or _text_ok(item)):
                    return False
            elif kind is dict or kind is list or kind is tuple:
                stack.append((item, depth + 1))
                continue  # counted when taken from the stack
            elif kind is int:
                if item.bit_length() > _MAX_INT_BITS:
                    return False
            elif kind is float:
                if not math.isfinite(item):
                    return False
            elif kind is Decimal:
                if not item.is_finite() or abs(item.adjusted()) > MAX_INT_DIGITS:
                    return False
            elif kind not in _PLAIN_ATOMS:
                return False
            seen += 1
        if seen > MAX_ITEMS:
            return False
    return True


def _text_ok(text: str) -> bool:
    if len(text) > MAX_STRING_CHARS:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_in_full(value: Any, path: str) -> None:
    """The check with the path of every value, raising `UnstorableValue` with its message."""
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    seen = 0
    while stack:
        item, where, depth = stack.pop()
        seen += 1
        if seen > MAX_ITEMS:
            raise UnstorableValue(f"{_describe(path)} holds more than {MAX_ITEMS:,} values")
        if depth > MAX_DEPTH:
            raise UnstorableValue(f"{_describe(where)} is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if item.bit_length() > MAX_INT_DIGITS * 3.33:
                raise UnstorableValue(f"{_describe(where)} is an integer over {MAX_INT_DIGITS} digits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise UnstorableValue(f"{_describe(where)} is {item!r}, which JSON cannot hold")
        elif isinstance(item, Decimal):
            if not item.is_finite():
                raise UnstorableValue(f"{_describe(where)} is Decimal {item!s}, which cannot be stored")
            if abs(item.adjusted()) > MAX_INT_DIGITS:
                raise UnstorableValue(f"{_describe(where)} is a decimal beyond {MAX_INT_DIGITS} digits")
        elif isinstance(item, Mapping) and type(item) is dict:
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise UnstorableValue(
                        f"{_describe(where)} has a key of type {type(key).__name__}; keys must be strings"
                    )
                _check_text(key, f"{where}[{key[:40]!r}]")
                stack.append((sub, f"{where}.{key[:40]}" if where else key[:40], depth + 1))
        elif type(item) in (list, tuple):
            stack.extend((sub, f"{where}[{i}]", depth + 1) for i, sub in enumerate(item))
        elif isinstance(item, _SCALARS):
            continue
        else:
            raise UnstorableValue(
                f"{_describe(where)} is a {type(item).__name__}, which a case cannot store "
                "(use strings, numbers, booleans, lists and objects)"
            )


def _check_text(text: str, where: str) -> None:
    if len(text) > MAX_STRING_CHARS:
        raise UnstorableValue(f"{_describe(where)} is a string longer than {MAX_STRING_CHARS:,} characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise UnstorableValue(f"{_describe(where)} is not valid Unicode ({err.reason})") from err


def check_variables(variables: Mapping[str, Any]) -> None:
    """`check_storable` for every variable of a case (the message names the variable)."""
    for name, value in variables.items():
        check_storable(value, str(name))
