"""Money and rate helpers on :class:`decimal.Decimal`.

Amounts are kept at full precision while computing; :func:`to_fen` rounds half-up to 0.01 CNY
and is meant for presentation only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

__all__ = [
    "FEN",
    "ZERO",
    "MoneyError",
    "allocate_rounded",
    "amount_in_words",
    "format_money",
    "format_rate",
    "money_str",
    "parse_decimal",
    "parse_money",
    "parse_rate",
    "to_fen",
    "to_fen_down",
]

FEN = Decimal("0.01")
ZERO = Decimal(0)

_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$", re.ASCII)


class MoneyError(ValueError):
    """A money or rate value that is not acceptable."""


def parse_decimal(
    value: object,
    *,
    max_places: int | None = None,
    allow_negative: bool = False,
    what: str = "value",
) -> Decimal:
    """Parse a finite decimal strictly from ``str``, ``int`` or ``Decimal``.

    Floats (and bools) are rejected because they cannot represent most fen amounts exactly.
    Strings may use correctly grouped thousands separators ("1,234.50").
    """
    if isinstance(value, (bool, float)):
        raise MoneyError(f"{what}: {type(value).__name__} is not accepted, pass a string or Decimal")
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER_RE.match(text):
            raise MoneyError(f"{what}: {value!r} is not a plain decimal number")
        try:
            result = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - regex already guards this
            raise MoneyError(f"{what}: {value!r} is not a number") from exc
    else:
        raise MoneyError(f"{what}: {type(value).__name__} is not accepted")
    if not result.is_finite():
        raise MoneyError(f"{what}: {value!r} is not finite")
    if result < 0 and not allow_negative:
        raise MoneyError(f"{what}: {value!r} must not be negative")
    if max_places is not None:
        exponent = result.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > max_places:
            raise MoneyError(f"{what}: {value!r} has more than {max_places} decimal places")
    return result


def parse_money(value: object, *, allow_negative: bool = False, what: str = "amount") -> Decimal:
    """Parse an amount in CNY with at most two decimal places (fen)."""
    return parse_decimal(value, max_places=2, allow_negative=allow_negative, what=what)


def parse_rate(value: object, *, what: str = "rate") -> Decimal:
    """Parse a non-negative rate given as a fraction ("0.063" for 6.3%); above 1 is refused."""
    rate = parse_decimal(value, what=what)
    if rate > 1:
        raise MoneyError(f"{what}: {value!r} looks like a percentage; pass a fraction such as 0.063")
    return rate


def to_fen(amount: Decimal) -> Decimal:
    """Round half-up to the fen (0.01). Presentation only."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen_down(amount: Decimal) -> Decimal:
    """Truncate towards zero to the fen."""
    return amount.quantize(FEN, rounding=ROUND_DOWN)


def money_str(amount: Decimal) -> str:
    """Canonical machine string of an amount rounded to the fen: ``"1234.50"``."""
    return f"{to_fen(amount):f}"


def format_money(amount: Decimal, *, thousands: bool = True) -> str:
    """Human format rounded to the fen: ``"1,234.50"``."""
    rounded = to_fen(amount)
    return f"{rounded:,.2f}" if thousands else f"{rounded:.2f}"


def format_rate(rate: Decimal, *, places: int = 4) -> str:
    """An annual rate fraction as a percentage string without trailing zeros: 0.0945 -> "9.45%"."""
    with localcontext() as ctx:
        ctx.prec = 50
        pct = (rate * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{pct:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def allocate_rounded(values: Sequence[Decimal]) -> list[Decimal]:
    """Round each value to the fen so that the parts add up to the rounded total.

    Largest-remainder method: a printed table then sums exactly to its printed total.
    """
    if not values:
        return []
    target = to_fen(sum(values, ZERO))
    floors = [v.quantize(FEN, rounding=ROUND_FLOOR) for v in values]
    # target and the floors are fen multiples with floors <= sum, so 0 <= shortfall <= len(values).
    shortfall = int((target - sum(floors, ZERO)) / FEN)
    order = sorted(range(len(values)), key=lambda i: (values[i] - floors[i], -i), reverse=True)
    result = list(floors)
    for i in order[:shortfall]:
        result[i] += FEN
    return result


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _integer_in_words(number: int) -> str:
    digits = str(number)
    length = len(digits)
    out: list[str] = []
    zero_pending = False
    for i, ch in enumerate(digits):
        pos = length - 1 - i
        d = int(ch)
        if d == 0:
            zero_pending = True
        else:
            if zero_pending and out:
                out.append("零")
            zero_pending = False
            out.append(_DIGITS[d] + _SMALL_UNITS[pos % 4])
        if pos % 4 == 0 and pos > 0 and int(digits[max(0, i - 3) : i + 1]) != 0:
            out.append(_BIG_UNITS[pos // 4])
    return "".join(out)


def amount_in_words(amount: Decimal, *, prefix: str = "人民币") -> str:
    """Chinese capital amount (大写金额) as written on cheques and letters.

    Follows the usual 《支付结算办法》 style: ``1004.50`` -> ``人民币壹仟零肆元伍角整``.
    """
    rounded = to_fen(amount)
    if rounded >= Decimal(10) ** 16:
        raise MoneyError(f"amount {amount} too large for words")
    sign = "负" if rounded < 0 else ""
    fen_total = int(abs(rounded) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if fen_total == 0:
        return f"{prefix}零元整"
    parts: list[str] = []
    if yuan:
        parts.append(_integer_in_words(yuan) + "元")
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif fen and yuan:
        parts.append("零")
    if fen:
        parts.append(_DIGITS[fen] + "分")
    else:
        parts.append("整")
    return prefix + sign + "".join(parts)
