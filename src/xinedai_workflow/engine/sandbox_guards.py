"""Cheap size guards on the operations that can allocate without bound in one C call.

These make the common runaway script fail fast with a clear message. They are not the limit that
holds against any code: that is the supervised step process (`engine/supervisor.py`) with its
memory cap and its wall-clock kill. Every guard also checks the script's deadline, so straight-line
code (no loop for the compiler's deadline check) is stopped at its time limit too.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

MAX_SEQUENCE_LENGTH = 1_000_000
MAX_INT_BITS = 65_536  # about 19,700 decimal digits: multiplying two is a few milliseconds
MAX_EXPONENT = 10_000
MAX_SHIFT = 4096
MAX_FORMAT_WIDTH = 10_000
MAX_DECIMAL_EXPONENT = 10_000


class ScriptLimitExceeded(Exception):
    """A script asked for an unbounded allocation (huge power, repetition, range or string)."""


Tick = Callable[[], bool]


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes, list, tuple)):
        return len(value)
    return -1


def _check_length(length: int, what: str) -> None:
    if length > MAX_SEQUENCE_LENGTH:
        raise ScriptLimitExceeded(f"{what} longer than {MAX_SEQUENCE_LENGTH:,}")


def _check_int(value: Any, what: str) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ScriptLimitExceeded(f"{what}: integer larger than {MAX_INT_BITS:,} bits")


def _check_decimal(value: Any) -> None:
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise ScriptLimitExceeded(f"decimal exponent beyond {MAX_DECIMAL_EXPONENT:,}")


class Guards:
    """The guarded operators and methods, bound to the sandbox's deadline check."""

    def __init__(self, tick: Tick) -> None:
        self.tick = tick

    # -- operators --------------------------------------------------------------------------
    def pow_(self, base: Any, exponent: Any, *mod: Any) -> Any:
        self.tick()
        if isinstance(exponent, int) and abs(exponent) > MAX_EXPONENT and not mod:
            raise ScriptLimitExceeded(f"exponent {exponent} is larger than {MAX_EXPONENT}")
        big = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and not mod
        if big and base.bit_length() * exponent > MAX_INT_BITS:
            raise ScriptLimitExceeded("power result too large")
        _check_decimal(base)
        return pow(base, exponent, *mod)

    def mul(self, left: Any, right: Any) -> Any:
        self.tick()
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise ScriptLimitExceeded(f"product larger than {MAX_INT_BITS:,} bits")
            return left * right
        if isinstance(left, int) and _size(right) >= 0:
            _check_length(left * _size(right), "sequence repetition")
        elif isinstance(right, int) and _size(left) >= 0:
            _check_length(right * _size(left), "sequence repetition")
        return left * right

    def lshift(self, left: Any, right: Any) -> Any:
        self.tick()
        if isinstance(right, int) and right > MAX_SHIFT:
            raise ScriptLimitExceeded("shift too large")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right > MAX_INT_BITS:
            raise ScriptLimitExceeded(f"shift result larger than {MAX_INT_BITS:,} bits")
        return left << right

    def add(self, left: Any, right: Any) -> Any:
        if type(left) in (str, list, tuple, bytes) and type(right) is type(left):
            self.tick()
            _check_length(len(left) + len(right), "concatenation")
        return left + right

    def mod(self, left: Any, right: Any) -> Any:
        if isinstance(left, str):
            self.tick()
            check_percent_format(left, right)
            return _sized(left % right, "formatted string")
        return left % right

    def formatted(self, value: Any) -> Any:
        """An f-string's value: huge decimals would print as huge digit strings."""
        _check_decimal(value)
        return value

    def joined(self, value: str) -> str:
        """An f-string's result."""
        self.tick()
        return _sized(value, "f-string")

    # -- builtins ---------------------------------------------------------------------------
    def int_(self, *args: Any, **kwargs: Any) -> int:
        self.tick()
        if args:
            _check_decimal(args[0])
            if isinstance(args[0], float) and abs(args[0]) > 1e300:
                raise ScriptLimitExceeded("int() of a float beyond 1e300")
        return int(*args, **kwargs)

    def round_(self, number: Any, *args: Any) -> Any:
        self.tick()
        _check_decimal(number)
        return round(number, *args)

    def sum_(self, iterable: Iterable[Any], start: Any = 0) -> Any:
        self.tick()
        if not isinstance(start, (int, float, Decimal)):
            raise ScriptLimitExceeded("sum() adds numbers only; use a comprehension to join sequences")
        return sum(iterable, start)

    def format_(self, value: Any, spec: str = "") -> str:
        self.tick()
        _check_decimal(value)
        check_format_spec(spec)
        return _sized(format(value, spec), "formatted value")

    # -- methods ----------------------------------------------------------------------------
    def method(self, obj: Any, name: str, bound: Any) -> Any:
        """Wrap the methods of str/list that can allocate far beyond their inputs."""
        if isinstance(obj, str):
            if name in ("format", "format_map"):
                if name == "format":
                    return lambda *a, **k: self._str_format(obj, a, k)
                return lambda mapping: self._str_format(obj, (), mapping)
            if name == "join":
                return lambda items: self._join(obj, items)
            if name == "replace":
                return lambda old, new, count=-1: self._replace(obj, old, new, count)
        elif isinstance(obj, list) and name == "extend":
            return lambda items: self._extend(obj, items)
        return bound

    def _str_format(self, text: str, args: tuple[Any, ...], kwargs: Any) -> str:
        self.tick()
        values = list(args) + (list(kwargs.values()) if isinstance(kwargs, dict) else [])
        for value in values:
            _check_decimal(value)
        fields = 0
        for _literal, field, spec, _conversion in string.Formatter().parse(text):
            if field is None:
                continue
            fields += 1
            if spec and ("{" in spec or "}" in spec):
                raise ScriptLimitExceeded("nested format specs are not allowed in diagram scripts")
            check_format_spec(spec or "")
        longest = max((len(v) if isinstance(v, str) else 64 for v in values), default=0)
        _check_length(len(text) + fields * longest, "formatted string")
        if isinstance(kwargs, dict) and not args:
            return _sized(text.format_map(kwargs), "formatted string")
        return _sized(text.format(*args, **(kwargs if isinstance(kwargs, dict) else {})), "formatted string")

    def _join(self, separator: str, items: Iterable[Any]) -> str:
        self.tick()
        parts = list(items)
        total = sum(len(p) if isinstance(p, str) else 0 for p in parts)
        total += len(separator) * max(len(parts) - 1, 0)
        _check_length(total, "joined string")
        return separator.join(parts)

    def _replace(self, text: str, old: str, new: str, count: int = -1) -> str:
        self.tick()
        hits = text.count(old) if old else len(text) + 1
        if count >= 0:
            hits = min(hits, count)
        _check_length(len(text) + hits * max(len(new) - len(old), 0), "replaced string")
        return text.replace(old, new, count)

    def _extend(self, target: list[Any], items: Iterable[Any]) -> None:
        self.tick()
        values = list(items)
        _check_length(len(target) + len(values), "list")
        target.extend(values)


_PERCENT = re.compile(r"%(?:\([^)]{0,100}\))?[-+ #0]{0,5}(\*|\d{1,20})?(?:\.(\*|\d{1,20}))?")
_SPEC_NUMBERS = re.compile(r"\d{1,20}")


def check_percent_format(text: str, args: Any) -> None:
    """`'%*d' % (10**9, 1)` or `'%999999999d'` would allocate a gigabyte in one call."""
    for match in _PERCENT.finditer(text):
        for group in match.groups():
            if group == "*":
                raise ScriptLimitExceeded("'*' widths are not allowed in %-formatting")
            if group is not None and int(group) > MAX_FORMAT_WIDTH:
                raise ScriptLimitExceeded(f"format width larger than {MAX_FORMAT_WIDTH:,}")
    if isinstance(args, Decimal):
        _check_decimal(args)
    elif isinstance(args, tuple):
        for value in args:
            _check_decimal(value)


def check_format_spec(spec: str) -> None:
    """Widths and precisions in a format spec are bounded."""
    for number in _SPEC_NUMBERS.findall(spec):
        if int(number) > MAX_FORMAT_WIDTH:
            raise ScriptLimitExceeded(f"format width larger than {MAX_FORMAT_WIDTH:,}")


def _sized(value: str, what: str) -> str:
    _check_length(len(value), what)
    return value
