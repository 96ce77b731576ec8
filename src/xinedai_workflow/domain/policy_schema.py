"""JSON Schema (draft 2020-12) of processes/contact_policy.yaml. Unknown keys are refused, so a
misspelt setting cannot silently fall back to a default."""

from __future__ import annotations

from typing import Any

from xinedai_workflow.domain.contact_model import PAUSE_RULES, TIME_RULES, Channel
from xinedai_workflow.domain.template_lint import TEMPLATE_KINDS

__all__ = ["MIN_RETENTION_DAYS", "POLICY_SCHEMA"]

# Credit-card rules: contact records are kept at least 2 years.
MIN_RETENTION_DAYS = 730

_TIME = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_CHANNELS = {"type": "array", "items": {"enum": [c.value for c in Channel]}, "uniqueItems": True}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 100}
_OPTIONAL_COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": 100}
_DAYS = {"type": "integer", "minimum": 1, "maximum": 90}
_ACTION = {"enum": ["defer", "drop"]}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
_PHRASES = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}, "maxItems": 1000}
_RETENTION_DAYS = {"type": "integer", "minimum": MIN_RETENTION_DAYS, "maximum": 36500}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_CONTACT = _obj(
    {
        "default_timezone": {"type": "string", "minLength": 1},
        "quiet_hours": _obj({"start": _TIME, "end": _TIME, "exempt_channels": _CHANNELS}, ("start", "end")),
        "daily_caps": _obj(
            {
                "max_connected_calls": _COUNT,
                "max_call_attempts": _OPTIONAL_COUNT,
                "max_contacts": _OPTIONAL_COUNT,
                "max_unanswered_attempts_per_number": _OPTIONAL_COUNT,
            },
            ("max_connected_calls",),
        ),
        "rolling_attempts": _obj(
            {
                "enabled": {"type": "boolean"},
                "max_attempts": _COUNT,
                "window_days": _DAYS,
                "channels": _CHANNELS,
            },
            ("enabled",),
        ),
        "post_conversation_quiet": _obj(
            {"enabled": {"type": "boolean"}, "days": _DAYS, "channels": _CHANNELS},
            ("enabled",),
        ),
        "pauses": _obj(
            {
                "while_plan_kept": {"type": "boolean"},
                "while_dispute_open": {"type": "boolean"},
                "while_complaint_open": {"type": "boolean"},
                "service_messages_exempt_from": {
                    "type": "array",
                    "items": {"enum": sorted(r.value for r in PAUSE_RULES)},
                    "uniqueItems": True,
                },
            }
        ),
        "third_party": _obj(
            {
                "emergency_contact_only_when_unreachable": {"type": "boolean"},
                "emergency_contact_channels": _CHANNELS,
                "guarantor_contact_allowed": {"type": "boolean"},
            }
        ),
        "actions": _obj({rule.value: _ACTION for rule in TIME_RULES}),
        "defer_limit_hours": {"type": "integer", "minimum": 1, "maximum": 744},
    },
    ("default_timezone", "quiet_hours", "daily_caps"),
)

_TEMPLATES = _obj(
    {
        "required_elements": {
            "type": "array",
            "maxItems": 100,
            "items": _obj(
                {
                    "id": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "kinds": {
                        "type": "array",
                        "items": {"enum": list(TEMPLATE_KINDS)},
                        "uniqueItems": True,
                        "minItems": 1,
                    },
                    "any_of": {**_PHRASES, "minItems": 1},
                    "message": _TEXT,
                    "first_contact": {"type": "boolean"},
                },
                ("id", "kinds", "any_of", "message"),
            ),
        },
        "prohibited": {
            "type": "array",
            "maxItems": 100,
            "items": _obj(
                {
                    "rule": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "message": _TEXT,
                    "phrases": {**_PHRASES, "minItems": 1},
                    "except_in": _PHRASES,
                },
                ("rule", "message", "phrases"),
            ),
        },
    },
    ("required_elements", "prohibited"),
)

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_obj(
        {
            "policy_id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 100},
            "policy_version": {"type": ["string", "integer"], "minLength": 1, "maxLength": 50},
            "contact": _CONTACT,
            "templates": _TEMPLATES,
            "retention": _obj(
                {"contact_records_days": _RETENTION_DAYS, "call_recordings_days": _RETENTION_DAYS},
                ("contact_records_days", "call_recordings_days"),
            ),
        },
        ("policy_id", "policy_version", "contact", "templates", "retention"),
    ),
}
