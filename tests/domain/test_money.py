from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinedai_workflow.domain.money import (
    MoneyError,
    allocate_rounded,
    amount_in_words,
    format_money,
    format_rate,
    money_str,
    parse_decimal,
    parse_money,
    parse_rate,
    to_fen,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", "0"),
        ("12", "12"),
        ("1234.5", "1234.5"),
        ("1,234.56", "1234.56"),
        (" 7.10 ", "7.10"),
        ("1,000,000", "1000000"),
    ],
)
def test_parse_money_accepts_plain_decimals(text: str, expected: str) -> None:
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize(
    "bad", ["1.234", "nan", "NaN", "inf", "-inf", "1e3", "1,23", "12,3456", "abc", "", "１２"]
)
def test_parse_money_rejects_malformed_strings(bad: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(bad)


@pytest.mark.parametrize(
    "bad", [1.5, 0.1, True, None, [1], Decimal("NaN"), Decimal("Infinity"), Decimal("0.001")]
)
def test_parse_money_rejects_floats_bools_and_non_finite(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_money(bad)


def test_negative_only_when_allowed() -> None:
    with pytest.raises(MoneyError):
        parse_money("-1.00")
    assert parse_money("-1.00", allow_negative=True) == Decimal("-1.00")


def test_money_error_is_value_error() -> None:
    assert issubclass(MoneyError, ValueError)


def test_parse_decimal_keeps_full_precision_and_rate_rejects_percentages() -> None:
    assert parse_decimal("0.0002625") == Decimal("0.0002625")
    assert parse_rate("0.063") == Decimal("0.063")
    with pytest.raises(MoneyError, match="percentage"):
        parse_rate("6.3")
    with pytest.raises(MoneyError):
        parse_rate(0.063)


def test_to_fen_rounds_half_up() -> None:
    assert to_fen(Decimal("958.125")) == Decimal("958.13")
    assert to_fen(Decimal("3.9375")) == Decimal("3.94")
    assert to_fen(Decimal("0.005")) == Decimal("0.01")
    assert to_fen(Decimal("0.0049999")) == Decimal("0.00")
    assert to_fen(Decimal("-0.005")) == Decimal("-0.01")


def test_formatting() -> None:
    assert format_money(Decimal("1234.5")) == "1,234.50"
    assert format_money(Decimal("1234567.891")) == "1,234,567.89"
    assert format_money(Decimal("1234.5"), thousands=False) == "1234.50"
    assert format_money(Decimal("-0.5")) == "-0.50"
    assert money_str(Decimal("2")) == "2.00"
    assert format_rate(Decimal("0.0945")) == "9.45%"
    assert format_rate(Decimal("0.24")) == "24%"
    assert format_rate(Decimal("0.06525")) == "6.525%"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "人民币零元整"),
        ("0.5", "人民币伍角整"),
        ("0.07", "人民币柒分"),
        ("1.05", "人民币壹元零伍分"),
        ("10", "人民币壹拾元整"),
        ("110", "人民币壹佰壹拾元整"),
        ("1004.50", "人民币壹仟零肆元伍角整"),
        ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
        ("10000", "人民币壹万元整"),
        ("100100", "人民币壹拾万零壹佰元整"),
        ("51837.79", "人民币伍万壹仟捌佰叁拾柒元柒角玖分"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("100000000", "人民币壹亿元整"),
    ],
)
def test_amount_in_words(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_amount_in_words_prefix_and_limits() -> None:
    assert amount_in_words(Decimal("3"), prefix="") == "叁元整"
    with pytest.raises(MoneyError):
        amount_in_words(Decimal("1e16"))


def test_allocate_rounded_example() -> None:
    assert allocate_rounded([Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]) == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
    assert allocate_rounded([]) == []


@given(
    st.lists(st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False), min_size=1, max_size=30)
)
def test_allocate_rounded_adds_up_and_stays_within_a_fen(values: list[Decimal]) -> None:
    parts = allocate_rounded(values)
    assert sum(parts, Decimal(0)) == to_fen(sum(values, Decimal(0)))
    for part, value in zip(parts, values, strict=True):
        assert abs(part - value) < Decimal("0.01")
        assert part == to_fen(part)
