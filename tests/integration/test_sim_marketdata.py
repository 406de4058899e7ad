"""The paper venue's market-data websocket over real loopback: auth, subscribe, prints."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from websockets.trio.client import ClientConnection, connect

from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim

AUTH = {"action": "auth", "key": "key", "secret": "secret"}


@pytest.fixture
async def venue() -> AsyncIterator[SimEndpoints]:
    config = SimConfig(
        prices={"AAPL": Decimal("100.00"), "MSFT": Decimal("400.00")},
        key_id="key",
        secret_key="secret",
    )
    async with running_sim(config) as endpoints:
        yield endpoints


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
