"""Guards in front of every handler: the body size limit (413), the body read time limit (408),
NUL characters, lone surrogates and URLs that are not valid UTF-8 (422)."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response


class BodySizeLimit:
    """Refuse bodies over `max_bytes`, by Content-Length or while streaming (chunked uploads)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes or declared < 0:
                    await self._refuse(scope, receive, send)
                    return
        received = 0
        started = refused = False

        async def limited_receive() -> Message:
            # The 413 is sent from here, and the app is told the client went away: an exception
            # raised here would reach the app's body parsing, which answers 400 to any error.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "payload_too_large", f"the request body is larger than {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


# "\u0000" in JSON text, unless its backslash is itself escaped ("\\u0000" is harmless text)
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# A "\ud800"-"\udbff" escape not followed by a "\udc00"-"\udfff" one, or the low half alone: JSON
# allows them, but such a string is not Unicode (it cannot be stored, hashed or sent as UTF-8).
_HIGH = rb"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)(?:\\\\)*(?:" + _HIGH + rb"(?!" + _LOW + rb")|(?<!" + _HIGH[2:] + rb")" + _LOW + rb")"
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def url_is_unicode(scope: Scope) -> bool:
    """Whether the path and the query decode (percent-escapes included) to valid Unicode: an
    escaped surrogate (``%ED%A0%80``) or stray byte (``%FF``) would otherwise reach a handler as
    U+FFFD or, from a server that passes it through, as a lone surrogate."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
    for raw in (raw_path, scope.get("query_string", b"").replace(b"+", b" ")):
        try:
            unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return _SURROGATE.search(scope.get("path", "")) is None


class RejectNulCharacters:
    """Refuse NUL characters in the path, the query and JSON bodies with 422: PostgreSQL text and
    JSONB cannot store them, and no bank system sends them on purpose."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await self._refuse(scope, receive, send, "path or query")
            return
        if not url_is_unicode(scope):
            await self._refuse(scope, receive, send, "path or query", "text that is not valid UTF-8")
            return
        headers = dict(scope.get("headers", []))
        if b"json" not in headers.get(b"content-type", b"").lower():
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []  # the body, read once here and handed on unchanged
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if _ESCAPED_NUL.search(body):
            await self._refuse(scope, receive, send, "body")
            return
        if b"\\u" in body and _LONE_SURROGATE.search(body):
            await self._refuse(scope, receive, send, "body", "a lone surrogate (not valid Unicode)")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, where: str, what: str = "a NUL character"
    ) -> None:
        details = [{"field": where, "message": f"{what} is not allowed", "type": "value_error"}]
        response = error_response(422, "validation_error", f"the request contains {what}", details)
        await response(scope, receive, send)


class BodyReadTimeout:
    """A client gets `seconds` to send its whole body, then 408: slow bodies cannot hold a
    connection and a handler thread (uvicorn itself has no body read timeout)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.seconds
        done = started = timed_out = False

        async def timed_receive() -> Message:
            nonlocal done, timed_out
            if done or timed_out:
                return await receive() if done else {"type": "http.disconnect"}
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                timed_out = True
                if not started:
                    response = error_response(
                        408, "request_timeout", f"the request body was not received within {self.seconds:g} s"
                    )
                    await response(scope, receive, send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, timed_receive, guarded_send)
