"""A Tradovate client written from the protocol digest alone, as a client developer would:
httpx for REST, websockets (trio) for the user and market-data sockets. It imports nothing
of the venue, so the venue's framing and JSON are judged, not shared."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import trio
from websockets.trio.client import connect

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from websockets.trio.client import ClientConnection

JSON = dict[str, Any]
# Every wait is bounded: venue time under the autojump clock, so a generous bound is free.
WAIT = 120.0
# The sample-style login body ([JS] / [PD] access-token-request).
SAMPLE_LOGIN: JSON = {
    "name": "trader",
    "password": "secret",
    "appId": "Sample App",
    "appVersion": "1.0",
    "deviceId": "0b7e2c52-6f1f-4bd7-9d41-0c1f9c0e4f10",
    "cid": 8,
    "sec": "f03741b6-f634-48d6-9308-c8fb871150c2",
}


class SocketClosed(Exception):
    """The server closed the socket; ``close_frame`` is its ``c[code, reason]``, if any."""

    def __init__(self, close_frame: list[Any] | None) -> None:
        super().__init__(close_frame)
        self.close_frame = close_frame


def parse_frame(text: str) -> tuple[str, Any]:
    """``o``, ``h``, ``a[…]`` or ``c[…]`` (digest §5): the kind and its JSON payload."""
    kind, payload = text[:1], text[1:]
    assert kind, text
    assert kind in "ohac", text
    if kind in "ac":
        return kind, json.loads(payload)
    assert not payload, text
    return kind, None


def request_text(endpoint: str, request_id: int, query: str = "", body: Any = None) -> str:
    """``endpoint\\nid\\nquery\\nbody``, empty lines kept."""
    text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    return f"{endpoint}\n{request_id}\n{query}\n{text}"


@attrs.define
class TradovateSocket:
    """One user or market-data socket: answers by request id, pushed events in arrival
    order (``props``, ``md``, ``shutdown``), the frame kinds seen."""

    ws: ClientConnection
    events: list[JSON] = attrs.Factory(list)
    answers: dict[int, JSON] = attrs.Factory(dict)
    kinds: list[str] = attrs.Factory(list)
    close_frame: list[Any] | None = None
    _next_id: int = 1

    async def read_frame(self, seconds: float = WAIT) -> tuple[str, Any]:
        """The next frame, its messages filed; SocketClosed when the socket ends."""
        from websockets.exceptions import ConnectionClosed

        try:
            with trio.fail_after(seconds):
                text = await self.ws.recv()
        except ConnectionClosed as exc:
            raise SocketClosed(self.close_frame) from exc
        assert isinstance(text, str), "Tradovate frames are text"
        kind, payload = parse_frame(text)
        self.kinds.append(kind)
        if kind == "c":
            self.close_frame = payload
        if kind == "a":
            for message in payload:
                if "e" in message:
                    self.events.append(message)
                else:
                    self.answers[message["i"]] = message
        return kind, payload

    async def send(self, endpoint: str, body: Any = None, query: str = "") -> int:
        request_id = self._next_id
        self._next_id += 1
        await self.ws.send(request_text(endpoint, request_id, query, body))
        return request_id

    async def answer(self, request_id: int, seconds: float = WAIT) -> JSON:
        with trio.fail_after(seconds):
            while request_id not in self.answers:
                await self.read_frame()
        return self.answers.pop(request_id)

    async def request(self, endpoint: str, body: Any = None, query: str = "") -> JSON:
        return await self.answer(await self.send(endpoint, body, query))

    async def authorize(self, token: str) -> JSON:
        """``o`` first, then ``authorize\\n0\\n\\nTOKEN``: its answer is the first ``a`` frame."""
        kind, _ = await self.read_frame()
        assert kind == "o"
        await self.ws.send(request_text("authorize", 0, "", token))
        with trio.fail_after(WAIT):
            while True:
                kind, payload = await self.read_frame()
                if kind == "a":
                    assert payload == [self.answers.pop(0)], "authorize answers alone"
                    return dict(payload[0])

    async def props_until(self, done: Callable[[list[JSON]], bool], seconds: float = WAIT) -> None:
        """Read until the ``props`` events seen so far satisfy ``done``."""
        with trio.move_on_after(seconds):
            while not done(self.props()):
                await self.read_frame()
            return
        raise AssertionError(f"not seen in {seconds} s; events: {entity_events(self.props())}")

    def props(self) -> list[JSON]:
        return [event["d"] for event in self.events if event["e"] == "props"]

    async def heartbeats(self) -> None:
        """``[]`` every 2.5 s, as the digest asks of every client, until the socket ends."""
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                await self.ws.send("[]")
            except ConnectionClosed:
                return
            await trio.sleep(2.5)


@asynccontextmanager
async def open_socket(url: str) -> AsyncIterator[TradovateSocket]:
    async with connect(url, ping_interval=None, open_timeout=WAIT, max_queue=None) as ws:
        yield TradovateSocket(ws)


def entity_events(props: list[JSON]) -> list[tuple[str, str]]:
    return [(event["entityType"], event["eventType"]) for event in props]
