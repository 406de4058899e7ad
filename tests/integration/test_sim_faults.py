"""Faults the paper venue produces on request, each seen from a plain client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio
from websockets.exceptions import ConnectionClosed
from websockets.trio.client import connect

from tests.integration.sim_fixtures import MARKET, event, open_listener

if TYPE_CHECKING:
    from brokers.sim import SimControl, SimEndpoints

# The shared fixtures, found by name.


async def test_drop_stream_closes_every_connection(
    venue: SimEndpoints, control: SimControl
) -> None:
    """drop_stream closes the listening connections at once."""
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        await control.fault("drop_stream")
        with pytest.raises(ConnectionClosed):
            await ws.recv()


async def test_duplicate_events_sends_each_event_twice(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl
) -> None:
    """With duplicate_events every event arrives twice, same execution_id."""
    await control.fault("duplicate_events")
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)
        await client.post("/v2/orders", json=MARKET)
        events = [await event(ws) for _ in range(4)]
    assert [e["event"] for e in events] == ["new", "new", "fill", "fill"]
    assert events[2]["execution_id"] == events[3]["execution_id"]


async def test_http_status_429_carries_rate_limit_headers_and_skips_the_core(
    client: httpx.AsyncClient, control: SimControl
) -> None:
    """The next `count` requests answer 429 with X-Ratelimit headers; the core never sees them."""
    await control.fault("http_status", status=429, count=2)
    first = await client.post("/v2/orders", json={**MARKET, "client_order_id": "r1"})
    second = await client.get("/v2/account")
    third = await client.post("/v2/orders", json={**MARKET, "client_order_id": "r2"})
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["X-Ratelimit-Limit"] == "200"
    assert first.headers["X-Ratelimit-Remaining"] == "0"
    assert int(first.headers["X-Ratelimit-Reset"]) > 0
    assert (await control.state())["submissions"] == {"r2": 1}


async def test_http_status_503_then_normal(client: httpx.AsyncClient, control: SimControl) -> None:
    """A 5xx fault answers that status once, then the venue answers normally."""
    await control.fault("http_status", status=503)
    assert (await client.get("/v2/account")).status_code == 503
    assert (await client.get("/v2/account")).status_code == 200


async def test_reject_next_answers_the_given_body(
    client: httpx.AsyncClient, control: SimControl
) -> None:
    """reject_next refuses the next order with that code and message, without an order."""
    await control.fault("reject_next", code=40310000, message="account is restricted")
    refused = await client.post("/v2/orders", json={**MARKET, "client_order_id": "x1"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"code": 40310000, "message": "account is restricted"},
    )
    assert (await control.state())["orders"] == []


async def test_reject_next_without_code_or_message_answers_an_empty_object(
    client: httpx.AsyncClient, control: SimControl
) -> None:
    """With neither code nor message the refusal body is {}."""
    await control.fault("reject_next", status=422)
    refused = await client.post("/v2/orders", json=MARKET)
    assert (refused.status_code, refused.json()) == (422, {})
    assert (await client.post("/v2/orders", json=MARKET)).status_code == 200


async def test_lose_response_fills_the_order_but_drops_the_answer(
    client: httpx.AsyncClient, control: SimControl
) -> None:
    """The order reaches the core and fills, but the client never gets a complete answer."""
    await control.fault("lose_response")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/v2/orders", json={**MARKET, "client_order_id": "lost"})
    state = await control.state()
    assert state["submissions"] == {"lost": 1}
    assert state["orders"][0]["status"] == "filled"
    found = await client.get("/v2/orders:by_client_order_id", params={"client_order_id": "lost"})
    assert found.json()["status"] == "filled"


async def test_delay_acks_lets_the_fill_arrive_before_the_answer(
    venue: SimEndpoints, client: httpx.AsyncClient, control: SimControl, autojump_clock: Any
) -> None:
    """With delay_acks the stream's fill comes before the POST returns, by the delay."""
    await control.fault("delay_acks", ms=5000, symbol="AAPL")
    seen: list[str] = []
    async with connect(venue.stream_url) as ws:
        await open_listener(ws)

        async def post() -> None:
            started = trio.current_time()
            response = await client.post("/v2/orders", json=MARKET)
            assert response.status_code == 200
            assert trio.current_time() - started >= 5
            seen.append("answer")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(post)
            seen.append((await event(ws))["event"])
            seen.append((await event(ws))["event"])
        other = trio.current_time()
        await client.post("/v2/orders", json={**MARKET, "symbol": "MSFT"})
        assert trio.current_time() - other < 5
    assert seen == ["new", "fill", "answer"]


async def test_clear_disarms_every_fault(client: httpx.AsyncClient, control: SimControl) -> None:
    """After clear the venue answers normally again."""
    await control.fault("http_status", status=500, count=5)
    await control.fault("clear")
    assert (await client.get("/v2/account")).status_code == 200


async def test_unknown_fault_is_refused(venue: SimEndpoints) -> None:
    """An unknown fault name is 422."""
    async with httpx.AsyncClient(base_url=venue.alpaca_url) as plain:
        response = await plain.post("/_sim/faults", json={"fault": "meteor"})
    assert response.status_code == 422
