"""uvicorn's h11 protocol with a header read time limit (slowloris).

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) and the idle time
between requests (``timeout_keep_alive``) but not how long a client may take to send its request
line and headers. This protocol closes a connection whose request head is not complete within
`header_read_timeout_seconds` of the connection (or of the previous response). The body's read
time is limited by `api.limits.BodyReadTimeout`.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..settings import get_settings


class HeaderTimeoutH11Protocol(H11Protocol):
    """`H11Protocol` that closes connections whose request head arrives too slowly."""

    header_timeout: float | None = None  # None: from the settings

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        seconds = self.header_timeout or get_settings().header_read_timeout_seconds
        self._disarm()
        self._header_timer = self.loop.call_later(seconds, self._header_deadline)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_deadline(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("request head not received in time; connection closed")
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the request head is complete

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
