"""The paper venue's trade_updates websocket over real loopback: auth, listen, events."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from websockets.exceptions import ConnectionClosed
from websockets.trio.client import ClientConnection, connect

from brokers.sim import SimConfig, SimEndpoints, serve_sim

AUTH = {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "secret"}
LEGACY_AUTH = {"action": "authenticate", "data": {"key_id": "key", "secret_key": "secret"}}
CURRENT_AUTH = {"action": "auth", "key": "key", "secret": "secret"}
LISTEN = {"action": "listen", "data": {"streams": ["trade_updates"]}}
MARKET = {"symbol": "AAPL", "qty": 2, "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(prices={"AAPL": Decimal("100.00")}, key_id="key", secret_key="secret")


async def exchange(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(message))
    return await receive(ws)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    frame = await ws.recv()
    assert isinstance(frame, bytes), "the venue sends binary frames, as Alpaca's paper stream"
    message: dict[str, Any] = json.loads(frame)
    return message


async def submit(venue: SimEndpoints, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=venue.alpaca_url, headers=AUTH) as client:
        response = await client.post("/v2/orders", json=body)
    assert response.status_code == 200
    order: dict[str, Any] = response.json()
    return order


@pytest.mark.parametrize("auth", [LEGACY_AUTH, CURRENT_AUTH])
async def test_both_auth_forms_are_authorized(venue: SimEndpoints, auth: dict[str, Any]) -> None:
    """The legacy and the current auth message both get the authorized reply."""
    async with connect(venue.stream_url) as ws:
        assert await exchange(ws, auth) == {
            "stream": "authorization",
            "data": {"status": "authorized", "action": "authenticate"},
        }
        assert await exchange(ws, LISTEN) == {
            "stream": "listening",
            "data": {"streams": ["trade_updates"]},
        }


async def test_wrong_credentials_are_unauthorized(venue: SimEndpoints) -> None:
    """A wrong secret is answered unauthorized, and listening stays refused."""
    async with connect(venue.stream_url) as ws:
        reply = await exchange(ws, {"action": "auth", "key": "key", "secret": "nope"})
        assert reply["data"] == {"status": "unauthorized", "action": "authenticate"}
        refused = await exchange(ws, LISTEN)
        assert refused["data"] == {"status": "unauthorized", "action": "listen"}


async def test_listen_before_auth_is_refused(venue: SimEndpoints) -> None:
    """listen without auth answers the unauthorized listen reply."""
    async with connect(venue.stream_url) as ws:
        assert await exchange(ws, LISTEN) == {
            "stream": "authorization",
            "data": {"status": "unauthorized", "action": "listen"},
        }


async def test_market_order_streams_new_then_fill(venue: SimEndpoints) -> None:
    """A listener sees new then fill, the fill with execution_id, price, qty, position_qty."""
    async with connect(venue.stream_url) as ws:
        await exchange(ws, LEGACY_AUTH)
        await exchange(ws, LISTEN)
        accepted = await submit(venue, MARKET)
        new, fill = await receive(ws), await receive(ws)
    assert new["stream"] == fill["stream"] == "trade_updates"
    assert new["data"]["event"] == "new"
    assert new["data"]["order"]["id"] == accepted["id"]
    assert new["data"]["order"]["status"] == "new"
    data = fill["data"]
    assert data["event"] == "fill"
    assert (data["price"], data["qty"], data["position_qty"]) == ("100", "2", "2")
    assert data["execution_id"] != new["data"]["execution_id"]
    assert data["timestamp"].endswith("Z")
    assert (data["order"]["status"], data["order"]["filled_qty"]) == ("filled", "2")


async def test_every_listener_gets_every_event(venue: SimEndpoints) -> None:
    """Two listening connections both receive the events."""
    async with connect(venue.stream_url) as first, connect(venue.stream_url) as second:
        for ws in (first, second):
            await exchange(ws, CURRENT_AUTH)
            await exchange(ws, LISTEN)
        await submit(venue, MARKET)
        for ws in (first, second):
            assert [(await receive(ws))["data"]["event"] for _ in range(2)] == ["new", "fill"]


async def test_events_while_nobody_listens_are_not_replayed(venue: SimEndpoints) -> None:
    """A connection that starts listening after an order sees only later events."""
    await submit(venue, {**MARKET, "client_order_id": "before"})
    async with connect(venue.stream_url) as ws:
        await exchange(ws, CURRENT_AUTH)
        await exchange(ws, LISTEN)
        await submit(venue, {**MARKET, "client_order_id": "after"})
        first = await receive(ws)
    assert first["data"]["order"]["client_order_id"] == "after"


async def test_venue_stops_cleanly_with_open_connections() -> None:
    """Cancelling the venue with a client connected closes that client's stream, no warnings."""
    connected, closed = trio.Event(), trio.Event()

    async def listen(endpoints: SimEndpoints) -> None:
        async with connect(endpoints.stream_url) as ws:
            await exchange(ws, CURRENT_AUTH)
            await exchange(ws, LISTEN)
            connected.set()
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            closed.set()

    with trio.fail_after(10):
        async with trio.open_nursery() as clients:
            async with trio.open_nursery() as venue_nursery:
                endpoints = await venue_nursery.start(serve_sim, SimConfig())
                clients.start_soon(listen, endpoints)
                await connected.wait()
                venue_nursery.cancel_scope.cancel()
            await closed.wait()
