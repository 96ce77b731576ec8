"""Chain heads anchored outside the database: signed, write-once exports of every case's head.

The triggers of migration 0002 stop an application account from editing history, but a table
owner can disable them and rewrite an entry, every later hash and the case's head: the chain then
verifies. So now and then (the worker, `XINEDAI_ANCHOR_INTERVAL_SECONDS`) every case's
``(history_seq, history_head)`` is exported, signed with Ed25519, to a sink the DBA does not
control (write-once; a local directory by default — point it at WORM storage in production).
`verify` then also checks each case against the newest anchor: the entry at the anchored seq
must still carry the anchored hash.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..db.models import Case, HistoryEntry
from ..db.session import Database

log = logging.getLogger("xinedai_workflow.history.anchors")
FORMAT = "xinedai-history-anchor/1"


class AnchorSink(Protocol):
    """Write-once storage for anchors (a directory, WORM object storage, ...)."""

    def write(self, name: str, content: bytes) -> None:
        """Store `content` under a new `name`; never overwrite."""

    def latest(self) -> tuple[str, bytes] | None:
        """The newest anchor (by name), if any."""


class DirectorySink:
    """The local default: one read-only file per anchor, created exclusively (never replaced)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, name: str, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)

    def latest(self) -> tuple[str, bytes] | None:
        if not self.directory.is_dir():
            return None
        names = sorted(p.name for p in self.directory.glob("anchor-*.json"))
        if not names:
            return None
        return names[-1], (self.directory / names[-1]).read_bytes()


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key (PEM, PKCS#8); a new one is generated (mode 0600) if the file is missing."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        return key
    log.warning("no anchor signing key at %s: generating one (provide the bank's key in production)", path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker generated it first: use that one
        return load_or_create_key(path)
    try:
        os.write(fd, pem)
    finally:
        os.close(fd)
    return key


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class AnchoredHead:
    seq: int
    head: str
    anchor: str  # the anchor's name
    at: str


class AnchorError(Exception):
    """The newest anchor cannot be trusted (bad signature or format)."""


class Anchors:
    """Exports signed anchors and answers "what was this case's head at the last anchor?"."""

    def __init__(self, db: Database, clock: Clock, sink: AnchorSink, key_file: Path) -> None:
        self.db = db
        self.clock = clock
        self.sink = sink
        self.key_file = key_file
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()
        self._cached: tuple[str, dict[str, Any]] | None = None

    def _signing_key(self) -> Ed25519PrivateKey:
        """Loaded (or generated) on first use: reading history needs it only once anchors exist."""
        with self._lock:
            if self._key is None:
                self._key = load_or_create_key(self.key_file)
            return self._key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._signing_key().public_key()

    def export(self) -> str:
        """Write an anchor of every case's head now; return its name."""
        now = self.clock.now()
        with self.db.read() as session:
            heads = {
                str(case_id): [seq, head]
                for case_id, seq, head in session.execute(
                    select(Case.id, Case.history_seq, Case.history_head).where(Case.history_seq > 0)
                )
            }
        body = {"format": FORMAT, "created_at": now.isoformat(), "heads": heads}
        signature = self._signing_key().sign(_canonical(body))
        document = {"body": body, "signature": base64.b64encode(signature).decode()}
        name = f"anchor-{now.strftime('%Y%m%dT%H%M%S%fZ')}-{os.getpid()}.json"
        self.sink.write(name, json.dumps(document, sort_keys=True).encode())
        log.info("history anchor %s: %d case heads", name, len(heads))
        return name

    def _latest(self) -> tuple[str, dict[str, Any]] | None:
        found = self.sink.latest()
        if found is None:
            return None
        name, content = found
        with self._lock:
            if self._cached is not None and self._cached[0] == name:
                return self._cached
        try:
            document = json.loads(content)
            body = document["body"]
            self.public_key.verify(base64.b64decode(document["signature"]), _canonical(body))
        except (InvalidSignature, ValueError, KeyError, TypeError) as err:
            raise AnchorError(f"anchor {name} is not signed by this service's key or is malformed") from err
        if body.get("format") != FORMAT:
            raise AnchorError(f"anchor {name} has an unknown format")
        with self._lock:
            self._cached = (name, body)
        return name, body

    def head_of(self, case_id: Any) -> AnchoredHead | None:
        """The case's head in the newest anchor (None: no anchor, or the case is newer)."""
        latest = self._latest()
        if latest is None:
            return None
        name, body = latest
        entry = body["heads"].get(str(case_id))
        if entry is None:
            return None
        return AnchoredHead(int(entry[0]), str(entry[1]), name, str(body["created_at"]))

    def check(self, session: Session, case: Case) -> tuple[int, str] | None:
        """(seq, reason) when the stored chain contradicts the newest anchor; None when it agrees."""
        try:
            anchored = self.head_of(case.id)
        except AnchorError as err:
            return (1, str(err))
        if anchored is None:
            return None
        stored = session.scalar(
            select(HistoryEntry.hash).where(HistoryEntry.case_id == case.id, HistoryEntry.seq == anchored.seq)
        )
        if stored is None:
            return (anchored.seq, f"entry {anchored.seq} of the anchored head ({anchored.anchor}) is missing")
        if stored != anchored.head:
            return (
                anchored.seq,
                f"entry {anchored.seq} differs from the head anchored outside the database at {anchored.at} "
                f"({anchored.anchor}): the chain was rewritten",
            )
        return None


class AnchorSchedule:
    """Runs `Anchors.export` at most once per interval (called from the worker loop)."""

    def __init__(self, anchors: Anchors, interval_seconds: int) -> None:
        self.anchors = anchors
        self.interval = interval_seconds
        self._next: datetime | None = None

    def run_if_due(self) -> int:
        """Export when the interval has passed. Returns 0: an anchor is bookkeeping, not work done."""
        now = self.anchors.clock.now()
        if self._next is not None and now < self._next:
            return 0
        self._next = now + timedelta(seconds=self.interval)
        self.anchors.export()
        return 0
