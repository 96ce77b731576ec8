"""Masking personal data for callers who do not work the case (PIPL Art. 6: minimum necessary).

Fields are recognised by name anywhere in a JSON-like structure (`phone`, `home_address`,
`id_number`, ...; names only inside person records such as `borrower`), and free text (notes
typed into a form) is scanned for mainland mobile numbers, resident ID numbers and e-mail
addresses. Identifiers of the bank's own records (`loan_id`, `borrower.id`, `*_no`) stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import re2

PERSON_CONTAINERS = frozenset(
    {
        "borrower",
        "guarantor",
        "guarantors",
        "emergency_contact",
        "emergency_contacts",
        "contact",
        "contacts",
        "spouse",
        "employer_contact",
    }
)
NAME_KEYS = frozenset({"name", "full_name", "legal_name", "borrower_name", "contact_name"})
# personal wherever they appear (also as a suffix: home_address, work_phone, spouse_id_number ...)
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("phone", ("phone", "mobile", "telephone", "tel", "phones", "mobiles")),
    ("email", ("email", "e_mail", "emails")),
    ("address", ("address", "addresses")),
    (
        "id",
        (
            "id_number",
            "id_card",
            "id_card_number",
            "id_no",
            "passport_number",
            "bank_account",
            "account_no",
            "account_number",
            "card_number",
        ),
    ),
)
# Free text comes from any upstream system (case variables, message payloads): every pattern here
# runs in linear time. The mobile and ID patterns match bounded lengths with fixed-width
# look-arounds (at most a few dozen steps per position); the e-mail pattern has unbounded runs, so
# it runs on RE2 (linear-time, no backtracking: 1 MB without an "@" is one pass, not n²).
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_EMAIL = re2.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def mask_name(value: str) -> str:
    """张三 → 张*, 王小明 → 王**, Alice → A****."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678 (a +86 prefix is dropped); short numbers keep their last two digits."""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
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


def mask_free_text(value: str) -> str:
    """Mask mobile numbers, resident ID numbers and e-mail addresses inside free text."""
    value = _EMAIL.sub(lambda m: mask_email(m.group(0)), value)
    value = _ID_CARD.sub(lambda m: mask_id(m.group(0)), value)
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), value)


_MASKERS = {
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_address,
    "id": mask_id,
    "name": mask_name,
}


def field_kind(key: str, inside_person: bool = False) -> str | None:
    """Which kind of personal data a field named `key` holds (None: not personal by its name)."""
    name = key.lower()
    for kind, names in _KINDS:
        if name in names or any(name.endswith("_" + n) for n in names):
            return kind
    if name == "borrower_name" or (inside_person and name in NAME_KEYS):
        return "name"
    return None


def _is_identifier(key: str) -> bool:
    name = key.lower()
    return name == "id" or name.endswith(("_id", "_no", "_ids", "_key", "hash"))


def _mask_leaf(kind: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str):
        return _MASKERS[kind](value)
    if isinstance(value, list):
        return [_mask_leaf(kind, item) for item in value]
    if isinstance(value, Mapping):
        return {k: _mask_leaf(kind, v) for k, v in value.items()}
    return value


def mask_personal_data(data: Any, inside_person: bool = False, key: str | None = None) -> Any:
    """A copy of `data` with personal fields masked (names only inside person records)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for name, value in data.items():
            kind = field_kind(str(name), inside_person)
            if kind is not None:
                out[name] = _mask_leaf(kind, value)
            else:
                person = inside_person or str(name).lower() in PERSON_CONTAINERS
                out[name] = mask_personal_data(value, person, str(name))
        return out
    if isinstance(data, list):
        return [mask_personal_data(item, inside_person, key) for item in data]
    if isinstance(data, str) and not (key is not None and _is_identifier(key)):
        return mask_free_text(data)
    return data


def personal_paths(data: Any, inside_person: bool = False, prefix: str = "") -> list[str]:
    """Dotted paths of the personal fields present in `data` (what an unmasked read reveals)."""
    found: list[str] = []
    if isinstance(data, Mapping):
        for name, value in data.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            if value in (None, "", [], {}) or (isinstance(value, str) and _is_identifier(str(name))):
                continue
            if field_kind(str(name), inside_person) is not None:
                found.append(path)
            else:
                person = inside_person or str(name).lower() in PERSON_CONTAINERS
                found.extend(personal_paths(value, person, path))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(personal_paths(item, inside_person, f"{prefix}[{index}]"))
    elif isinstance(data, str) and mask_free_text(data) != data:
        found.append(prefix)
    return found
