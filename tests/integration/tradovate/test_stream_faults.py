"""The Tradovate stream faults, armed through POST /_sim/faults with "front": "tradovate"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio
from websockets.exceptions import ConnectionClosed
from websockets.trio.client import ClientConnection, connect

from brokers.sim.core.contracts import PRODUCTS, front_contract
from brokers.sim.tradovate.front import EntityChange
from tests.integration.tradovate.conftest import issue_tokens
from tests.integration.tradovate.ws_client import (
    next_frame,
    next_messages,
    open_authorized,
    send_request,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.integration.tradovate.conftest import TradovateVenue


async def fault(tradovate: TradovateVenue, name: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=None) as client:
        return await client.post(
            f"{tradovate.rest_url}/_sim/faults",
            json={"front": "tradovate", "fault": name, **params},
        )


@pytest.fixture
async def synced(tradovate: TradovateVenue) -> AsyncIterator[ClientConnection]:
    """A user socket authorized and synced, its snapshot read."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        await send_request(ws, "user/syncrequest", 1, {"users": [tradovate.front.user_id]})
        await next_messages(ws)
        yield ws


def created(order_id: int) -> EntityChange:
    return EntityChange("order", "Created", {"id": order_id})


async def test_drop_stream_closes_user_sockets_with_no_c_frame(
    tradovate: TradovateVenue, synced: ClientConnection
) -> None:
    """drop_stream closes every user socket at once, without a c frame."""
    assert (await fault(tradovate, "drop_stream")).status_code == 200
    with pytest.raises(ConnectionClosed):
        await next_frame(synced)


async def test_drop_stream_md_closes_market_data_sockets_only(
    tradovate: TradovateVenue, synced: ClientConnection
) -> None:
    """With md true the md sockets close and the user sockets stay."""
    _, md_token = issue_tokens(tradovate.front)
    async with connect(tradovate.md_url, ping_interval=None) as md:
        await open_authorized(md, md_token)
        await fault(tradovate, "drop_stream", md=True)
        with pytest.raises(ConnectionClosed):
            await next_frame(md)
    await send_request(synced, "x/y", 2)
    assert (await next_messages(synced))[0]["i"] == 2


async def test_stall_stream_holds_everything_then_delivers_in_order(
    tradovate: TradovateVenue, synced: ClientConnection, autojump_clock: trio.abc.Clock
) -> None:
    """During a stall nothing is sent, not even h; then the events come, in order."""
    await fault(tradovate, "stall_stream", seconds=10)
    start = trio.current_time()
    tradovate.front.changes.publish([created(1)])
    tradovate.front.changes.publish([created(2)])
    frame = await next_frame(synced, heartbeats=True)
    assert trio.current_time() - start >= 10
    frames = [frame, await next_frame(synced, heartbeats=True)]
    if frames[0].kind == "h":
        frames = [frames[1], await next_frame(synced)]
    assert [f.messages[0]["d"]["entity"]["id"] for f in frames] == [1, 2]


async def test_duplicate_events_sends_each_props_twice(
    tradovate: TradovateVenue, synced: ClientConnection
) -> None:
    """duplicate_events repeats every props message."""
    await fault(tradovate, "duplicate_events")
    tradovate.front.changes.publish([created(1), EntityChange("fill", "Created", {"id": 5})])
    messages = await next_messages(synced)
    assert [m["d"]["entityType"] for m in messages] == ["order", "order", "fill", "fill"]


async def test_reorder_events_sends_the_fill_before_created(
    tradovate: TradovateVenue, synced: ClientConnection
) -> None:
    """reorder_events puts the Trade report and fill ahead of the order's Created."""
    await fault(tradovate, "reorder_events")
    trade = EntityChange("executionReport", "Created", {"id": 3, "execType": "Trade"})
    fill = EntityChange("fill", "Created", {"id": 4})
    tradovate.front.changes.publish([created(1), trade, fill])
    messages = await next_messages(synced)
    assert [m["d"]["entityType"] for m in messages] == ["executionReport", "fill", "order"]


async def test_lose_response_drops_answers_not_requests(
    tradovate: TradovateVenue, synced: ClientConnection
) -> None:
    """The next answer is never sent; the one after is."""
    await fault(tradovate, "lose_response", count=1)
    await send_request(synced, "a/b", 2)
    await send_request(synced, "a/b", 3)
    assert [m["i"] for m in await next_messages(synced)] == [3]


async def test_lost_sync_answer_still_streams_events(tradovate: TradovateVenue) -> None:
    """A syncrequest whose answer is lost still subscribes: the props come."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        await fault(tradovate, "lose_response")
        await send_request(ws, "user/syncrequest", 1, {"users": [tradovate.front.user_id]})
        await send_request(ws, "a/b", 2)
        assert [m["i"] for m in await next_messages(ws)] == [2]
        tradovate.front.changes.publish([created(1)])
        assert (await next_messages(ws))[0]["e"] == "props"


async def test_delay_acks_lets_events_overtake_the_answer(
    tradovate: TradovateVenue, synced: ClientConnection, autojump_clock: trio.abc.Clock
) -> None:
    """With delay_acks the answer comes ms later; events published meanwhile come first."""
    await fault(tradovate, "delay_acks", ms=1000)
    start = trio.current_time()
    await send_request(synced, "a/b", 2)
    tradovate.front.changes.publish([created(1)])
    assert (await next_messages(synced))[0]["e"] == "props"
    assert (await next_messages(synced))[0]["i"] == 2
    assert trio.current_time() - start >= 1.0
    await fault(tradovate, "clear")
    await send_request(synced, "a/b", 3)
    assert (await next_messages(synced))[0]["i"] == 3
    assert trio.current_time() - start < 1.5


async def test_shutdown_sends_the_event_then_closes(
    tradovate: TradovateVenue, synced: ClientConnection
) -> None:
    """shutdown sends {"e":"shutdown"} with its reasonCode, then a c frame, then closes."""
    await fault(tradovate, "shutdown", reasonCode="ConnectionQuotaReached", reason="too many")
    assert await next_messages(synced) == [
        {"e": "shutdown", "d": {"reasonCode": "ConnectionQuotaReached", "reason": "too many"}}
    ]
    frame = await next_frame(synced)
    assert (frame.kind, frame.close_reason) == ("c", "too many")
    with pytest.raises(ConnectionClosed):
        await synced.recv()


async def test_shutdown_md_and_quotes_stall(
    tradovate: TradovateVenue, autojump_clock: trio.abc.Clock
) -> None:
    """md true turns shutdown onto the market-data sockets (default reason Maintenance)."""
    front = tradovate.front
    _, md_token = issue_tokens(front)
    name = front_contract(PRODUCTS["NQ"], front.clock().date()).name
    async with connect(tradovate.md_url, ping_interval=None) as md:
        await open_authorized(md, md_token)
        await send_request(md, "md/subscribeQuote", 1, {"symbol": name})
        await next_messages(md)
        await next_messages(md)
        await fault(tradovate, "shutdown", md=True)
        assert (await next_messages(md))[0]["d"] == {"reasonCode": "Maintenance"}
        assert (await next_frame(md)).kind == "c"


async def test_bad_and_unknown_faults_answer_422(tradovate: TradovateVenue) -> None:
    """An unknown Tradovate fault or a bad parameter answers 422."""
    assert (await fault(tradovate, "no_such_fault")).status_code == 422
    assert (await fault(tradovate, "shutdown", reasonCode="Bored")).status_code == 422
    assert (await fault(tradovate, "stall_stream", seconds=-1)).status_code == 422
    assert (await fault(tradovate, "delay_acks")).status_code == 422
