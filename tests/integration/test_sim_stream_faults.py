"""Stream faults the paper venue produces on request: stalls, reordering, a missed cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio
from websockets.trio.client import connect

from tests.integration.sim_fixtures import MARKET, event, open_listener

if TYPE_CHECKING:
    import httpx

    from brokers.sim import SimControl, SimEndpoints

# The shared fixtures, found by name.


async def test_stall_stream_holds_events_then_delivers_them_in_order(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl, autojump_clock: Any
) -> None:
    """stall_stream keeps the connection open, sends nothing for the stall, then everything."""
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        await control.fault("stall_stream", seconds=30)
        started = trio.current_time()
        assert (await client.post("/v2/orders", json=MARKET)).status_code == 200
        first = await event(ws)
        assert trio.current_time() - started >= 30
        second = await event(ws)
    assert [first["event"], second["event"]] == ["new", "fill"]


async def test_reorder_events_streams_the_fill_before_its_new(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """reorder_events delivers an order's fill ahead of its new."""
    await control.fault("reorder_events")
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        assert (await client.post("/v2/orders", json=MARKET)).status_code == 200
        seen = [(await event(ws))["event"], (await event(ws))["event"]]
    assert seen == ["fill", "new"]


async def test_miss_bracket_cancel_keeps_the_sibling_cancel_off_the_stream(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """With miss_bracket_cancel the stop leg is canceled at the venue but never streamed."""
    bracket = MARKET | {
        "qty": "2",
        "order_class": "bracket",
        "take_profit": {"limit_price": "110"},
        "stop_loss": {"stop_price": "95"},
    }
    await control.fault("miss_bracket_cancel")
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        placed = await client.post("/v2/orders", json=bracket)
        assert placed.status_code == 200
        legs = placed.json()["legs"]
        # The entry filled at once, so the take-profit already works; the stop stays held.
        assert [leg["status"] for leg in legs] == ["new", "held"]
        assert [(await event(ws))["event"] for _ in range(3)] == ["new", "fill", "new"]
        await control.set_prices({"AAPL": "111"})
        filled = await event(ws)
        assert (filled["event"], filled["order"]["id"]) == ("fill", legs[0]["id"])
        await control.set_prices({"AAPL": "112"})  # a later event proves nothing came between
        await client.post("/v2/orders", json=MARKET)
        assert (await event(ws))["event"] == "new"
    stop = await client.get(f"/v2/orders/{legs[1]['id']}")
    assert stop.json()["status"] == "canceled"


async def test_clear_ends_a_stall_at_once(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl, autojump_clock: Any
) -> None:
    """clear during a stall_stream delivers the held events without waiting out the stall."""
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        await control.fault("stall_stream", seconds=600)
        started = trio.current_time()
        assert (await client.post("/v2/orders", json=MARKET)).status_code == 200
        # Less than the venue's HTTP keep-alive, so the control connection stays usable.
        await trio.sleep(1)
        await control.fault("clear")
        assert (await event(ws))["event"] == "new"
        assert trio.current_time() - started < 600
