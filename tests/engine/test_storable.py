"""`check_storable`'s quick pass accepts only what the full check accepts, at and beyond every limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinedai_workflow.engine import storable
from xinedai_workflow.engine.storable import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_ITEMS,
    MAX_STRING_CHARS,
    UnstorableValue,
    check_storable,
)


def _full_accepts(value: Any) -> bool:
    try:
        storable._check_in_full(value, "v")
    except UnstorableValue:
        return False
    return True


def _nested(depth: int, leaf: Any, kind: type = list) -> Any:
    value = leaf
    for _ in range(depth - 1):
        value = [value] if kind is list else {"k": value}
    return value


class _Text(str):
    pass


_cycle: list[Any] = []
_cycle.append(_cycle)

EDGES: list[Any] = [
    None,
    True,
    0,
    10 ** (MAX_INT_DIGITS - 1),
    10**MAX_INT_DIGITS,
    10 ** (MAX_INT_DIGITS + 200),
    -(10 ** (MAX_INT_DIGITS + 200)),
    1.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    Decimal("1.25"),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal(f"1E{MAX_INT_DIGITS}"),
    Decimal(f"1E{MAX_INT_DIGITS + 1}"),
    Decimal(f"1E-{MAX_INT_DIGITS + 1}"),
    date(2026, 1, 1),
    datetime(2026, 1, 1, tzinfo=UTC),
    timedelta(days=1),
    UUID(int=7),
    "plain",
    "žluťoučký kůň",
    "\ud800",
    "a\udfffb",
    "x" * MAX_STRING_CHARS,
    "x" * (MAX_STRING_CHARS + 1),
    _Text("a subclass"),
    {"\ud800": 1},
    {1: "int key"},
    {_Text("k"): 1},
    {(1, 2): 3},
    b"bytes",
    bytearray(b"x"),
    {1, 2},
    object(),
    ValueError("x"),
    (i for i in [1]),
    (1, [2, {"a": (3,)}]),
    _nested(MAX_DEPTH, 1),
    _nested(MAX_DEPTH + 1, 1),
    _nested(MAX_DEPTH, [], list),
    _nested(MAX_DEPTH + 1, [], list),
    _nested(MAX_DEPTH, 1, dict),
    _nested(MAX_DEPTH + 1, 1, dict),
    [0] * (MAX_ITEMS - 1),
    [0] * MAX_ITEMS,
    [[0] * (MAX_ITEMS // 2)] * 2,
    {"a": [0] * (MAX_ITEMS - 2)},
    _cycle,
]


@pytest.mark.parametrize("value", EDGES, ids=[f"edge{i}" for i in range(len(EDGES))])
def test_the_quick_pass_never_accepts_what_the_full_check_refuses(value: Any) -> None:
    if storable.all_surely_storable([value]):
        assert _full_accepts(value)
    refused = not _full_accepts(value)
    try:
        check_storable(value, "v")
    except UnstorableValue:
        assert refused
    else:
        assert not refused


def test_one_pass_over_many_variables_is_sure_only_when_each_is_storable() -> None:
    assert storable.all_surely_storable(["a", 1, {"b": [Decimal(2)]}])
    assert not storable.all_surely_storable(["a", 1, {"b": [b"x"]}])
    assert not storable.all_surely_storable([[0] * (MAX_ITEMS // 2 + 1)] * 2)  # each one is fine: unsure
    assert all(_full_accepts(value) for value in [[0] * (MAX_ITEMS // 2 + 1)] * 2)


def test_it_is_sure_about_plain_data_and_names_the_variable_otherwise() -> None:
    plain = {"amount": Decimal("12.50"), "items": [1, 2.5, "a", None, True], "when": date(2026, 1, 2)}
    assert storable.all_surely_storable([plain])
    assert storable.all_surely_storable([_nested(MAX_DEPTH, 1), plain])
    with pytest.raises(UnstorableValue, match=r"loan\.items\[1\] is a bytes"):
        check_storable({"items": [1, b"x"]}, "loan")
    with pytest.raises(UnstorableValue, match="nested deeper than 32"):
        check_storable(_nested(MAX_DEPTH + 1, 1), "deep")


_atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=8),
    st.dates(),
    st.datetimes(),
    st.timedeltas(),
    st.uuids(),
    st.binary(max_size=2),
    st.sampled_from([10**4200, _Text("s"), "\udcff", object()]),
)
_keys = st.one_of(st.text(max_size=4), st.sampled_from(["\ud800", _Text("k")]), st.integers(0, 3))
_values = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_keys, inner, max_size=4),
    ),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_values, min_size=1, max_size=3))
def test_quick_and_full_agree_on_random_values(values: list[Any]) -> None:
    if storable.all_surely_storable(values):
        assert all(_full_accepts(value) for value in values)
