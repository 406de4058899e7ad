"""The paper venue's market-data websocket over real loopback: auth, subscribe, prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from msgspec import msgpack
from websockets.trio.client import ClientConnection, connect

from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim

AUTH = {"action": "auth", "key": "key", "secret": "secret"}


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(
        prices={"AAPL": Decimal("100.00"), "MSFT": Decimal("400.00")},
        key_id="key",
        secret_key="secret",
    )


async def exchange(ws: ClientConnection, message: dict[str, Any]) -> list[dict[str, Any]]:
    await ws.send(json.dumps(message))
    return await receive(ws)


async def receive(ws: ClientConnection) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = json.loads(await ws.recv(), parse_float=Decimal)
    return messages


async def test_subscriber_gets_the_current_price_then_every_change(venue: SimEndpoints) -> None:
    """After connected/authenticated, subscribing prints the current price, then each new one."""
    async with connect(venue.data_url) as ws, SimControl(venue) as control:
        assert await receive(ws) == [{"T": "success", "msg": "connected"}]
        assert await exchange(ws, AUTH) == [{"T": "success", "msg": "authenticated"}]
        subscription, *prints = await exchange(ws, {"action": "subscribe", "trades": ["AAPL"]})
        assert subscription == {"T": "subscription", "trades": ["AAPL"], "quotes": [], "bars": []}
        assert [(p["T"], p["S"], p["p"]) for p in prints] == [("t", "AAPL", Decimal("100.00"))]
        await control.set_prices({"MSFT": "401.00"})
        await control.set_prices({"AAPL": "101.25"})
        (trade,) = await receive(ws)
    assert (trade["T"], trade["S"], trade["p"]) == ("t", "AAPL", Decimal("101.25"))
    assert trade["t"].endswith("Z")
    assert trade["i"] > prints[0]["i"]


async def test_quotes_straddle_the_price(venue: SimEndpoints) -> None:
    """A quote subscription gets a bid a cent under and an ask a cent over the price."""
    async with connect(venue.data_url) as ws:
        await receive(ws)
        await exchange(ws, AUTH)
        _, quote = await exchange(ws, {"action": "subscribe", "quotes": ["MSFT"]})
    assert (quote["T"], quote["bp"], quote["ap"]) == ("q", Decimal("399.99"), Decimal("400.01"))


async def test_wildcard_subscription_gets_every_symbol(venue: SimEndpoints) -> None:
    """Subscribing trades to * prints every listed symbol."""
    async with connect(venue.data_url) as ws:
        await receive(ws)
        await exchange(ws, AUTH)
        _, *prints = await exchange(ws, {"action": "subscribe", "trades": ["*"]})
    assert sorted(p["S"] for p in prints) == ["AAPL", "MSFT"]


async def test_subscribe_before_auth_and_bad_auth_are_errors(venue: SimEndpoints) -> None:
    """Subscribing unauthenticated is error 401; wrong credentials are error 402."""
    async with connect(venue.data_url) as ws:
        await receive(ws)
        assert await exchange(ws, {"action": "subscribe", "trades": ["AAPL"]}) == [
            {"T": "error", "code": 401, "msg": "not authenticated"}
        ]
        assert await exchange(ws, {"action": "auth", "key": "key", "secret": "nope"}) == [
            {"T": "error", "code": 402, "msg": "auth failed"}
        ]


async def test_prices_are_reprinted_while_nothing_moves(autojump_clock: Any) -> None:
    """Every reprint interval the current price is printed again as a new trade."""
    config = SimConfig(prices={"AAPL": Decimal("100.00")}, reprint_interval=10.0)
    async with running_sim(config) as venue, connect(venue.data_url) as ws:
        await receive(ws)
        await exchange(ws, AUTH)
        _, first = await exchange(ws, {"action": "subscribe", "trades": ["AAPL"]})
        (again,) = await receive(ws)
    assert again["p"] == first["p"]
    assert again["i"] > first["i"]


async def test_minute_bars_are_built_from_the_minutes_trades(autojump_clock: Any) -> None:
    """Once a minute of venue time has passed, a bars subscriber gets that minute's bar,
    stamped with the minute's start, from the trades printed in it."""
    config = SimConfig(
        prices={"AAPL": Decimal("100.00")},
        start_time=datetime(2026, 1, 5, 15, 0, 10, tzinfo=UTC),
        reprint_interval=3600,
    )
    async with (
        running_sim(config) as venue,
        SimControl(venue) as control,
        connect(venue.data_url) as ws,
    ):
        await receive(ws)
        await exchange(ws, AUTH)
        assert await exchange(ws, {"action": "subscribe", "bars": ["AAPL"]}) == [
            {"T": "subscription", "trades": [], "quotes": [], "bars": ["AAPL"]}
        ]
        for price in ("101.50", "99.25", "100.75"):
            await control.set_prices({"AAPL": price})
        (bar,) = await receive(ws)
    assert bar == {
        "T": "b",
        "S": "AAPL",
        "o": Decimal(100),  # the starting price was printed at 15:00:10
        "h": Decimal("101.5"),
        "l": Decimal("99.25"),
        "c": Decimal("100.75"),
        "v": 400,
        "t": "2026-01-05T15:00:00Z",
        "n": 4,
        "vw": Decimal("100.375"),
    }


async def test_moving_the_clock_sends_the_bar_in_msgpack() -> None:
    """POST /_sim/clock past the minute sends its bar at once; a msgpack connection gets it
    as msgpack, numbers as floats and the time as a timestamp extension."""
    start = datetime(2026, 1, 5, 15, 0, 10, tzinfo=UTC)
    config = SimConfig(prices={"AAPL": Decimal("100.00")}, start_time=start)
    headers = {"Content-Type": "application/msgpack"}
    async with (
        running_sim(config) as venue,
        SimControl(venue) as control,
        connect(venue.data_url, additional_headers=headers) as ws,
    ):
        msgpack.decode(await ws.recv(decode=False))
        await ws.send(msgpack.encode({"action": "auth", "key": "key", "secret": "secret"}))
        msgpack.decode(await ws.recv(decode=False))
        await ws.send(msgpack.encode({"action": "subscribe", "bars": ["*"]}))
        msgpack.decode(await ws.recv(decode=False))
        await control.set_prices({"AAPL": "102.00"})
        await control.advance_clock(60)
        frame = await ws.recv()
    assert isinstance(frame, bytes)
    (bar,) = msgpack.decode(frame)
    assert (bar["T"], bar["S"], bar["o"], bar["c"], bar["v"]) == ("b", "AAPL", 100.0, 102.0, 200)
    assert bar["t"] == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
