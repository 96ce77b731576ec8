"""The embedded default channel: writes each message as a JSON file a person can inspect."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from .base import DeliveryResult, OutboundMessage


class LocalSinkChannel:
    """`<dir>/<channel>/<idempotency-hash>.json`; the same key overwrites the same file (idempotent)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: OutboundMessage) -> DeliveryResult:
        folder = self.directory / message.channel
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32] + ".json"
        path = folder / name
        reference = f"LOCAL-{message.channel.upper()}-{name[:12]}"
        if message.channel == "registered_mail":
            reference = "EMS" + str(int(name[:10], 16) % 10**9).zfill(9) + "CN"  # a tracking-number-like id
        record = {
            "reference": reference,
            "written_at": datetime.now(UTC).isoformat(),
            "message": message.__dict__,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        tmp.replace(path)
        return DeliveryResult(True, reference, {"file": str(path)})
