"""The embedded default channel: writes each message as a JSON file a person can inspect.

Registered mail also gets its letter rendered to a PDF beside the JSON (what the mail house would
print and post) and a tracking-number-like reference, as a mail house returns on hand-over.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from .base import DeliveryResult, OutboundMessage
from .documents import letter_pdf


def tracking_number(key: str) -> str:
    """A UPU S10-shaped number (EM + 8 digits + check digit + CN), stable for one idempotency key."""
    serial = str(int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % 10**8).zfill(8)
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    check = 11 - sum(int(d) * w for d, w in zip(serial, weights, strict=True)) % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return f"EM{serial}{check}CN"


class LocalSinkChannel:
    """`<dir>/<channel>/<idempotency-hash>.json`; the same key overwrites the same file (idempotent)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: OutboundMessage) -> DeliveryResult:
        folder = self.directory / message.channel
        folder.mkdir(parents=True, exist_ok=True)
        stem = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        path = folder / f"{stem}.json"
        reference = f"LOCAL-{message.channel.upper()}-{stem[:12]}"
        detail: dict[str, str] = {"file": str(path)}
        if message.channel == "registered_mail":
            reference = tracking_number(message.idempotency_key)
            document = letter_pdf(message.payload)
            if document is not None:
                pdf = folder / f"{stem}.pdf"
                _write(pdf, document)
                detail.update(pdf=str(pdf), pdf_sha256=hashlib.sha256(document).hexdigest(), carrier="EMS")
        record = {
            "reference": reference,
            "written_at": datetime.now(UTC).isoformat(),
            "message": message.__dict__,
            **{k: v for k, v in detail.items() if k != "file"},
        }
        _write(path, json.dumps(record, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
        return DeliveryResult(True, reference, detail, confirmed=True)


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
