"""An HTTP gateway channel (SMS/e-mail/mail house) using httpx, with an Idempotency-Key header."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from .base import DeliveryResult, OutboundMessage
from .documents import letter_pdf


class HttpGatewayChannel:
    """POSTs `{channel, operation, case_id, loan_id, payload}` to `<base_url>/<channel>`.

    Registered mail also carries the letter as `document_pdf_base64` for the mail house to print.
    """

    def __init__(self, base_url: str, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: OutboundMessage) -> DeliveryResult:
        body: dict[str, Any] = {
            "channel": message.channel,
            "operation": message.operation,
            "case_id": message.case_id,
            "loan_id": message.loan_id,
            "payload": message.payload,
        }
        if message.channel == "registered_mail":
            document = letter_pdf(message.payload)
            if document is not None:
                body["document_pdf_base64"] = base64.b64encode(document).decode("ascii")
        try:
            response = self.client.post(
                f"{self.base_url}/{message.channel}",
                json=body,
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except httpx.HTTPError as err:
            return DeliveryResult(False, error=f"gateway unreachable: {err}", retryable=True)
        if response.status_code >= 500 or response.status_code == 429:
            return DeliveryResult(False, error=f"gateway answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            return DeliveryResult(
                False, error=f"gateway refused: {response.status_code} {response.text[:200]}", retryable=False
            )
        data = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        return DeliveryResult(True, str(data.get("reference") or data.get("id") or ""), data)
