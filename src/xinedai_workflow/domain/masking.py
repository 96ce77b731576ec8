"""Masking personal data for callers who do not work the case (PIPL: minimum necessary)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PERSON_CONTAINERS = frozenset({"borrower", "guarantor", "emergency_contact", "emergency_contacts", "contact"})
ALWAYS_PERSONAL = frozenset(
    {
        "phone",
        "mobile",
        "email",
        "address",
        "id_number",
        "id_card",
        "id_card_number",
        "bank_account",
        "account_no",
    }
)
NAME_KEYS = frozenset({"name", "full_name", "borrower_name"})


def mask_name(value: str) -> str:
    """张三 → 张*, 王小明 → 王**, Alice → A****."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; short numbers keep only their last two digits."""
    digits = [c for c in value if c.isdigit()]
    if len(digits) >= 7:
        return "".join(digits[:3]) + "****" + "".join(digits[-4:])
    return "*" * max(len(value) - 2, 0) + value[-2:]


def mask_email(value: str) -> str:
    """wxm@example.com → w**@example.com."""
    local, _, domain = value.partition("@")
    if not domain:
        return mask_name(value)
    return (local[:1] + "*" * max(len(local) - 1, 1)) + "@" + domain


def mask_address(value: str) -> str:
    """Keep the first six characters (province/city), hide the rest."""
    return value[:6] + "*" * max(len(value) - 6, 0)


def mask_id(value: str) -> str:
    """110101199001011234 → 1101**********1234."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def _mask_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in ("phone", "mobile"):
        return mask_phone(value)
    if key == "email":
        return mask_email(value)
    if key == "address":
        return mask_address(value)
    if key in NAME_KEYS:
        return mask_name(value)
    return mask_id(value)


def mask_personal_data(data: Any, inside_person: bool = False) -> Any:
    """A copy of `data` with personal fields masked (names only inside person records)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            person = inside_person or key in PERSON_CONTAINERS
            if key in ALWAYS_PERSONAL or (inside_person and key in NAME_KEYS) or key == "borrower_name":
                out[key] = _mask_value(key, value)
            else:
                out[key] = mask_personal_data(value, person and isinstance(value, (Mapping, list)))
        return out
    if isinstance(data, list):
        return [mask_personal_data(item, inside_person) for item in data]
    return data
