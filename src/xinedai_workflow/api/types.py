"""Field types shared by the API schemas: money as decimal strings, identifiers, time zones."""

from __future__ import annotations

import math
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints

from ..domain.money import parse_rate

Money = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$", max_length=20),
    Field(
        description='A non-negative amount in CNY as a decimal string, e.g. "1234.50".', examples=["1234.50"]
    ),
]


def _check_rate(value: str) -> str:
    parse_rate(value, what="rate")  # the domain's rule: a fraction, not a percentage (at most 1)
    return value


Rate = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,10})?$", max_length=16),
    AfterValidator(_check_rate),
    Field(description="A rate as a decimal string (0.063 = 6.3% a year).", examples=["0.063"]),
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:\-]+$")]
LongKey = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {value!r}") from err
    return value


TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_timezone)]


MAX_JSON_DEPTH = 32
# The engine's serializer tags typed values as {"typename": ...}; a client's object carrying that
# key would be read back as a typed value (or make the case unloadable), so the key is reserved.
RESERVED_KEY = "typename"


def _check_depth(value: dict[str, Any]) -> dict[str, Any]:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            if RESERVED_KEY in item:
                raise ValueError(f"the key {RESERVED_KEY!r} is reserved")
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("NaN and Infinity are not JSON numbers")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_check_depth)]
