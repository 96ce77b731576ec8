"""Reading the loose values case variables hold: days, moments, amounts and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xinedai_workflow.domain.money import parse_money

DEFAULT_TIMEZONE = "Asia/Shanghai"


def as_day(value: Any) -> date:
    """A calendar day from a date, a datetime or an ISO string (a datetime's own day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])


def as_moment(value: Any) -> datetime:
    """An aware datetime from a datetime or an ISO string (naive ones are taken as UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_amount(value: Any) -> Decimal:
    """A money amount (negative allowed: corrections and refunds)."""
    return parse_money(value, allow_negative=True)


def zone_of(name: Any) -> ZoneInfo:
    """The borrower's IANA zone, or Asia/Shanghai when none or an unknown one is given."""
    try:
        return ZoneInfo(str(name or DEFAULT_TIMEZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)
