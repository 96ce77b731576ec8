"""The outbound channel adapters: the local sink (with the demand letter as PDF) and the HTTP gateway."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import httpx

from xinedai_workflow.channels.base import OutboundMessage
from xinedai_workflow.channels.http import HttpGatewayChannel
from xinedai_workflow.channels.sink import LocalSinkChannel, tracking_number
from xinedai_workflow.domain.interest import compute_claim

LETTER = {
    "bank_name": "明德银行",
    "hotline": "400-820-6688",
    "borrower_name": "王小明",
    "borrower_address": "北京市朝阳区建国路1号",
    "contract_no": "XED-1",
    "loan_amount": "50000.00",
    "letter_no": "CS-20260302-XED-1-01",
    "letter_date": "2026-03-02",
    "respond_by": "2026-03-17",
    "claim": compute_claim(
        "2100.00", "262.50", "2026-02-25", "2026-03-02", "0.063", cap_period_start="2024-03-13"
    ),
}


def _message(channel: str, payload: dict[str, object]) -> OutboundMessage:
    return OutboundMessage(
        "m1", channel, "send_registered_mail", "case-1:task-1:send_registered_mail", "case-1", "L-1", payload
    )


def test_tracking_numbers_are_s10_shaped_and_stable() -> None:
    number = tracking_number("case-1:task-1:send_registered_mail")
    assert re.fullmatch(r"EM\d{9}CN", number) and number == tracking_number(
        "case-1:task-1:send_registered_mail"
    )
    assert number != tracking_number("case-1:task-2:send_registered_mail")


def test_the_sink_prints_the_letter_and_is_idempotent(tmp_path: Path) -> None:
    sink = LocalSinkChannel(tmp_path)
    payload = {
        "template": "demand_letter",
        "context": LETTER,
        "text": "催款通知书",
        "body_text": "尊敬的王小明：\n　　正文。\n",
    }
    first = sink.send(_message("registered_mail", payload))
    again = sink.send(_message("registered_mail", payload))
    assert first.delivered and first.reference == again.reference
    assert first.detail is not None and Path(first.detail["pdf"]).read_bytes().startswith(b"%PDF")
    record = json.loads(Path(first.detail["file"]).read_text(encoding="utf-8"))
    assert record["reference"] == first.reference and record["message"]["payload"]["text"] == "催款通知书"
    assert len(list((tmp_path / "registered_mail").glob("*.json"))) == 1


def test_the_gateway_gets_the_letter_pdf_and_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"reference": "EM000000001CN"})

    gateway = HttpGatewayChannel(
        "http://mail.example", client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    payload = {"context": LETTER, "body_text": "尊敬的王小明：\n　　正文。\n"}
    result = gateway.send(_message("registered_mail", payload))
    assert result.delivered and result.reference == "EM000000001CN"
    body = json.loads(seen[0].content)
    assert seen[0].url.path == "/registered_mail"
    assert seen[0].headers["Idempotency-Key"] == "case-1:task-1:send_registered_mail"
    assert base64.b64decode(body["document_pdf_base64"]).startswith(b"%PDF")
