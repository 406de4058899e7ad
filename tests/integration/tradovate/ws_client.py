"""A bare Tradovate websocket client for the tests, written from the digest's framing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import trio

from brokers.sim.tradovate.frames import ServerFrame, parse_server_frame

if TYPE_CHECKING:
    from websockets.trio.client import ClientConnection

JSON = dict[str, Any]


async def next_frame(ws: ClientConnection, *, heartbeats: bool = False) -> ServerFrame:
    """The next frame; ``h`` frames are skipped unless ``heartbeats``."""
    while True:
        with trio.fail_after(120):
            text = await ws.recv()
        assert isinstance(text, str)
        frame = parse_server_frame(text)
        if frame.kind != "h" or heartbeats:
            return frame


async def next_messages(ws: ClientConnection) -> list[JSON]:
    """The messages of the next ``a`` frame."""
    frame = await next_frame(ws)
    assert frame.kind == "a", frame
    return frame.messages


async def send_request(
    ws: ClientConnection, endpoint: str, request_id: int, body: Any = None, query: str = ""
) -> None:
    text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    await ws.send(f"{endpoint}\n{request_id}\n{query}\n{text}")


async def open_authorized(ws: ClientConnection, token: str) -> None:
    """``o``, then authorize id 0, whose answer must be the first ``a`` frame."""
    assert (await next_frame(ws)).kind == "o"
    await send_request(ws, "authorize", 0, token)
    assert await next_messages(ws) == [{"s": 200, "i": 0}]
