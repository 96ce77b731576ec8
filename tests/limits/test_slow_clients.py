"""Finding 10: a body that arrives too slowly gets 408 and frees the handler."""

from __future__ import annotations

import asyncio
from typing import Any

from xinedai_workflow.api.limits import BodyReadTimeout


def test_a_slow_body_gets_408() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())  # a first chunk
        seen.append(await receive())  # never comes: the middleware answers for the app

    async def receive() -> dict[str, Any]:
        if not seen:
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.sleep(3600)
        return {"type": "http.request", "body": b"}"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(asyncio.wait_for(BodyReadTimeout(app, seconds=0.2)(scope, receive, send), 5))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 408
    assert seen[-1] == {"type": "http.disconnect"}
