"""Documents a channel hands over with a message: the demand letter as a PDF for registered mail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..documents.letter_pdf import render_demand_letter_pdf


def letter_pdf(payload: Mapping[str, Any]) -> bytes | None:
    """The PDF of a `send_registered_mail` payload (`context` + `body_text`), or None without a letter."""
    context = payload.get("context")
    body = payload.get("body_text")
    if not isinstance(context, Mapping) or not isinstance(body, str):
        return None
    return render_demand_letter_pdf(context, body_text=body)
