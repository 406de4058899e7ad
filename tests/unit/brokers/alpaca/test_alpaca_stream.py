"""AlpacaBroker.order_updates() against a tiny trade_updates server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
from websockets.exceptions import ConnectionClosed
from websockets.trio.server import ServerConnection, serve

from brokers.alpaca import AlpacaBroker
from brokers.base import OrderEvent, OrderStatus, OrderUpdate
from brokers.errors import AuthenticationFailed, BrokerUnavailable
from tests.unit.brokers.alpaca.payloads import order_payload, trade_update_payload

KEY_ID = "PKSTREAMKEY"
SECRET = "stream-canary-secret"
Handler = Callable[[ServerConnection], Awaitable[None]]

NEW = trade_update_payload("new", order_payload(status="new"))
FILL = trade_update_payload(
    "fill",
    order_payload(status="filled", filled_qty="10", filled_avg_price="179.08"),
    execution_id="e-1",
    price="179.08",
    qty="10",
    position_qty="10",
)
# A trade_updates message whose order has no id: it cannot be read.
MALFORMED = trade_update_payload("fill", {k: v for k, v in order_payload().items() if k != "id"})


def frame(message: dict[str, Any]) -> bytes:
    """Paper Alpaca sends JSON in binary frames."""
    return json.dumps(message).encode()


async def authorize(ws: ServerConnection) -> bool:
    """The server side of the handshake; False (after saying so) for wrong credentials."""
    auth = json.loads(await ws.recv())
    if auth != {"action": "auth", "key": KEY_ID, "secret": SECRET}:
        await ws.send(
            frame(
                {
                    "stream": "authorization",
                    "data": {"status": "unauthorized", "action": "authenticate"},
                }
            )
        )
        return False
    await ws.send(
        frame(
            {"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}}
        )
    )
    listen = json.loads(await ws.recv())
    assert listen == {"action": "listen", "data": {"streams": ["trade_updates"]}}
    await ws.send(frame({"stream": "listening", "data": {"streams": ["trade_updates"]}}))
    return True


def sending(*frames: bytes | str) -> Handler:
    """A venue that authorizes, sends ``frames``, then closes the connection."""

    async def handler(ws: ServerConnection) -> None:
        if await authorize(ws):
            for f in frames:
                await ws.send(f)

    return handler


@asynccontextmanager
async def fake_venue(handler: Handler) -> AsyncIterator[str]:
    """A websocket server on 127.0.0.1, any free port; yields its stream URL."""
    async with trio.open_nursery() as nursery:
        server = await nursery.start(partial(serve, handler, 0, host="127.0.0.1"))
        port = server.listeners[0].socket.getsockname()[1]
        try:
            yield f"ws://127.0.0.1:{port}/stream"
        finally:
            await server.aclose()


def broker(stream_url: str, *, secret: str = SECRET, timeout: float = 10.0) -> AlpacaBroker:
    return AlpacaBroker(
        base_url="http://127.0.0.1:1",
        stream_url=stream_url,
        key_id=KEY_ID,
        secret_key=secret,
        timeout=timeout,
    )


async def collect(alpaca: AlpacaBroker, updates: list[OrderUpdate]) -> None:
    """Read the stream to its end into ``updates``."""
    async with alpaca.order_updates() as stream:
        async for update in stream:
            updates.append(update)


async def test_updates_arrive_bad_events_are_skipped_and_a_close_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """new and fill are yielded, the malformed event skipped, the close raises BrokerUnavailable."""
    caplog.set_level(logging.WARNING, logger="tradingd.alpaca.stream")
    updates: list[OrderUpdate] = []
    handler = sending(frame(NEW), frame(MALFORMED), b"not json", frame(FILL))
    async with fake_venue(handler) as url, broker(url) as alpaca:
        with pytest.raises(BrokerUnavailable) as raised:
            await collect(alpaca, updates)
    assert [(u.event, u.order.status) for u in updates] == [
        (OrderEvent.NEW, OrderStatus.NEW),
        (OrderEvent.FILL, OrderStatus.FILLED),
    ]
    fill = updates[1].fill
    assert fill is not None
    assert (fill.execution_id, fill.qty, fill.price) == ("e-1", Decimal(10), Decimal("179.08"))
    assert updates[1].position_qty == Decimal(10)
    assert raised.value.request_may_have_arrived is True
    assert isinstance(raised.value.__cause__, ConnectionClosed)
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 2
    assert SECRET not in caplog.text


async def test_text_frames_and_venue_error_notices_are_read_too() -> None:
    """A text-frame event is yielded; an error notice before the close is only logged."""
    notice = json.dumps({"action": "error", "data": {"error_message": "internal server error"}})
    async with (
        fake_venue(sending(json.dumps(NEW), notice)) as url,
        broker(url) as alpaca,
        alpaca.order_updates() as stream,
    ):
        first = await stream.__anext__()
        with pytest.raises(BrokerUnavailable):
            await stream.__anext__()
    assert first.event is OrderEvent.NEW


async def test_refused_credentials_raise_authentication_failed() -> None:
    """An unauthorized reply to auth raises AuthenticationFailed without the secret in it."""
    async with fake_venue(sending()) as url, broker(url, secret="wrong-secret") as alpaca:
        with pytest.raises(AuthenticationFailed) as raised:
            async with alpaca.order_updates():
                pytest.fail("the stream opened with refused credentials")
    assert "wrong-secret" not in str(raised.value)
    assert "unauthorized" in str(raised.value)


async def test_an_unreachable_venue_raises_broker_unavailable() -> None:
    """Nothing listening: BrokerUnavailable from entering, not an OSError."""
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        async with broker(f"ws://127.0.0.1:{port}/stream") as alpaca:
            with pytest.raises(BrokerUnavailable) as raised:
                async with alpaca.order_updates():
                    pytest.fail("the stream opened with nobody listening")
    assert raised.value.request_may_have_arrived is False
    assert isinstance(raised.value.__cause__, OSError)


async def test_a_silent_venue_times_out_the_handshake(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """No reply to auth within the timeout: BrokerUnavailable at exactly that deadline."""
    released = trio.Event()

    async def silent(ws: ServerConnection) -> None:
        await ws.recv()
        await released.wait()

    async with fake_venue(silent) as url, broker(url, timeout=3.0) as alpaca:
        with trio.fail_after(60):
            start = trio.current_time()
            with pytest.raises(BrokerUnavailable, match="could not connect"):
                async with alpaca.order_updates():
                    pytest.fail("the stream opened without a handshake")
            assert trio.current_time() - start == pytest.approx(3.0)
        released.set()


async def test_leaving_the_context_closes_the_connection() -> None:
    """Exiting the block closes the websocket: the venue sees the connection end."""
    closed = trio.Event()

    async def hold(ws: ServerConnection) -> None:
        if await authorize(ws):
            await ws.send(frame(NEW))
            try:
                await ws.recv()
            except ConnectionClosed:
                closed.set()

    async with fake_venue(hold) as url, broker(url) as alpaca:
        async with alpaca.order_updates() as stream:
            update = await stream.__anext__()
        with trio.fail_after(5):
            await closed.wait()
    assert update.event is OrderEvent.NEW


async def test_errors_raised_by_the_caller_pass_through_unchanged() -> None:
    """An exception from the caller's block is not relabelled as a broker failure."""
    async with fake_venue(sending(frame(NEW))) as url, broker(url) as alpaca:
        with pytest.raises(KeyError, match="mine"):
            async with alpaca.order_updates():
                raise KeyError("mine")
