"""The Tradovate user websocket over real loopback: authorize, heartbeats, sync, props."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import trio
from websockets.exceptions import ConnectionClosed
from websockets.trio.client import connect

from brokers.sim import SimConfig
from brokers.sim.tradovate.front import EntityChange
from brokers.sim.tradovate.sockets import SocketKind
from tests.integration.tradovate.conftest import issue_tokens, revoke_tokens
from tests.integration.tradovate.ws_client import (
    next_frame,
    next_messages,
    open_authorized,
    send_request,
)

if TYPE_CHECKING:
    from tests.integration.tradovate.conftest import TradovateVenue


@pytest.fixture
def sim_config() -> SimConfig:
    """Silent clients are dropped after 10 s here, to show the timeout is configurable."""
    return SimConfig(ws_client_timeout=10.0)


def order_created(order_id: int) -> EntityChange:
    return EntityChange("order", "Created", {"id": order_id, "ordStatus": "PendingNew"})


async def test_authorize_is_the_first_a_frame(tradovate: TradovateVenue) -> None:
    """o, then authorize\\n0\\n\\nTOKEN answers [{"s":200,"i":0}] as the first a frame."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)


async def test_quoted_token_and_undefined_query_authorize(tradovate: TradovateVenue) -> None:
    """A JSON-quoted token with undefined on the query line authorizes, any id."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        assert (await next_frame(ws)).kind == "o"
        await ws.send(f'authorize\n4\nundefined\n"{token}"')
        assert await next_messages(ws) == [{"s": 200, "i": 4}]


async def test_bad_and_revoked_tokens_are_401(tradovate: TradovateVenue) -> None:
    """An unknown token, and one revoked since it was issued, answer 401."""
    token, _ = issue_tokens(tradovate.front)
    revoke_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        assert (await next_frame(ws)).kind == "o"
        for request_id, bad in enumerate(["nonsense", token]):
            await send_request(ws, "authorize", request_id, bad)
            assert await next_messages(ws) == [
                {"s": 401, "i": request_id, "d": "Invalid access token"}
            ]


async def test_requests_before_authorize_are_refused(tradovate: TradovateVenue) -> None:
    """A request sent before authorize answers 401 and changes nothing."""
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await next_frame(ws)
        await send_request(ws, "user/syncrequest", 1, {"users": [1]})
        (answer,) = await next_messages(ws)
    assert (answer["i"], answer["s"]) == (1, 401)


async def test_unauthorized_socket_is_closed_in_a_few_seconds(
    tradovate: TradovateVenue, autojump_clock: trio.abc.Clock
) -> None:
    """A socket that never authorizes gets a c frame and is closed after 5 s."""
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        start = trio.current_time()
        await next_frame(ws)
        frame = await next_frame(ws)
        assert frame.kind == "c"
        assert frame.close_reason == "Not authorized in time"
        assert trio.current_time() - start == pytest.approx(5, abs=0.1)
        with pytest.raises(ConnectionClosed):
            await ws.recv()


async def test_idle_socket_sends_h_every_two_and_a_half_seconds(
    tradovate: TradovateVenue, autojump_clock: trio.abc.Clock
) -> None:
    """With nothing to send, the server sends h every 2.5 s."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        times = []
        for _ in range(3):
            assert (await next_frame(ws, heartbeats=True)).kind == "h"
            times.append(trio.current_time())
    assert times[2] - times[1] == pytest.approx(2.5, abs=0.05)
    assert times[1] - times[0] == pytest.approx(2.5, abs=0.05)


async def test_silent_client_is_dropped_and_a_heartbeating_one_is_not(
    tradovate: TradovateVenue, autojump_clock: trio.abc.Clock
) -> None:
    """A client sending [] every 2.5 s stays for a minute; once silent, it is closed 10 s later."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        for _ in range(24):
            await trio.sleep(2.5)
            await ws.send("[]")
        silent_since = trio.current_time()
        frame = await next_frame(ws)
        assert (frame.kind, frame.close_reason) == ("c", "No heartbeat from client")
        assert trio.current_time() - silent_since == pytest.approx(10, abs=0.1)
        with pytest.raises(ConnectionClosed):
            await ws.recv()


async def test_sync_answers_the_snapshot_then_props_in_order(tradovate: TradovateVenue) -> None:
    """syncrequest answers the entity lists; then each command's changes come in one a frame."""
    front = tradovate.front
    token, _ = issue_tokens(front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        await send_request(ws, "user/syncrequest", 1, {"users": [front.user_id]})
        (answer,) = await next_messages(ws)
        assert (answer["s"], answer["i"]) == (200, 1)
        assert answer["d"]["users"][0]["id"] == front.user_id
        assert answer["d"]["accounts"][0]["id"] == front.account_id
        assert "MNQ" in {p["name"] for p in answer["d"]["products"]}
        assert answer["d"]["orders"] == []
        fill = EntityChange("fill", "Created", {"id": 9, "orderId": 1})
        front.changes.publish([order_created(1), fill])
        front.changes.publish([EntityChange("order", "Updated", {"id": 1})])
        first, second = await next_messages(ws), await next_messages(ws)
    assert [(m["e"], m["d"]["entityType"], m["d"]["eventType"]) for m in first] == [
        ("props", "order", "Created"),
        ("props", "fill", "Created"),
    ]
    assert first[0]["d"]["entity"] == {"id": 1, "ordStatus": "PendingNew"}
    assert [m["d"]["eventType"] for m in second] == ["Updated"]


async def test_sync_by_account_with_entity_types_narrows_lists_and_events(
    tradovate: TradovateVenue,
) -> None:
    """entityTypes keeps only those lists (plus users, contractGroups) and those events."""
    front = tradovate.front
    token, _ = issue_tokens(front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        body = {"accounts": [front.account_id], "entityTypes": ["order"], "splitResponses": True}
        await send_request(ws, "user/syncrequest", 1, body)
        (answer,) = await next_messages(ws)
        assert sorted(answer["d"]) == ["contractGroups", "orders", "users"]
        front.changes.publish([EntityChange("fill", "Created", {"id": 9})])
        front.changes.publish([order_created(2)])
        (event,) = await next_messages(ws)
    assert event["d"]["entityType"] == "order"


async def test_bad_sync_bodies_and_another_user(tradovate: TradovateVenue) -> None:
    """A body without users or accounts is 400; another user's sync has empty lists."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        await send_request(ws, "user/syncrequest", 1, {"users": "me"})
        await send_request(ws, "user/syncrequest", 2, None)
        await send_request(ws, "user/syncrequest", 3, {"users": [1]})
        bad_type, missing, other = [(await next_messages(ws))[0] for _ in range(3)]
    assert (bad_type["s"], missing["s"]) == (400, 400)
    assert "users must be a list" in bad_type["d"]
    assert other["s"] == 200
    assert all(v == [] for v in other["d"].values())


async def test_unknown_endpoint_and_bad_frames_answer_errors(tradovate: TradovateVenue) -> None:
    """An endpoint the socket lacks answers 404 as Tradovate does; a bad body 400."""
    token, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        await send_request(ws, "quote/subscribe", 1, {})
        assert await next_messages(ws) == [{"s": 404, "i": 1, "d": '"Not found: quote/subscribe"'}]
        await ws.send("order/placeorder\n2\n\n{oops")
        (bad,) = await next_messages(ws)
        assert (bad["i"], bad["s"]) == (2, 400)
        # No readable id: ignored, and the socket still answers.
        await ws.send("garbage")
        await send_request(ws, "nothing/here", 3)
        (after,) = await next_messages(ws)
    assert (after["i"], after["s"]) == (3, 404)


async def test_ended_session_closes_its_sockets(tradovate: TradovateVenue) -> None:
    """When a token's session ends, its sockets get a c frame and close; others stay."""
    front = tradovate.front
    token, _ = issue_tokens(front)
    other, _ = issue_tokens(front)
    async with (
        connect(tradovate.ws_url, ping_interval=None) as ws,
        connect(tradovate.ws_url, ping_interval=None) as kept,
    ):
        await open_authorized(ws, token)
        await open_authorized(kept, other)
        front.end_token_sessions(token)
        frame = await next_frame(ws)
        assert (frame.kind, frame.close_reason) == ("c", "Session closed")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        await send_request(kept, "x/y", 1)
        assert (await next_messages(kept))[0]["i"] == 1


async def test_endpoints_are_read_in_the_case_the_official_samples_send(
    tradovate: TradovateVenue, autojump_clock: object
) -> None:
    """order/placeOrder and orderStrategy/startOrderStrategy, as the official trading
    sample sends them over the socket, reach their handlers (Tradovate's names ignore case)."""
    front = tradovate.front
    token, _ = issue_tokens(front)
    symbol = next(a.symbol for a in front.core.assets() if a.symbol.startswith("MNQ"))
    order = {
        "accountSpec": front.account_name,
        "accountId": front.account_id,
        "action": "Buy",
        "symbol": symbol,
        "orderQty": 1,
        "orderType": "Market",
        "isAutomated": True,
    }
    params = {
        "entryVersion": {"orderQty": 1, "orderType": "Market", "timeInForce": "Day"},
        "brackets": [{"qty": 1, "profitTarget": 20, "stopLoss": -10, "trailingStop": False}],
    }
    strategy = {
        "accountId": front.account_id,
        "accountSpec": front.account_name,
        "symbol": symbol,
        "orderStrategyTypeId": 2,
        "action": "Buy",
        "params": json.dumps(params),
    }
    async with connect(tradovate.ws_url, ping_interval=None) as ws:
        await open_authorized(ws, token)
        await send_request(ws, "order/placeOrder", 1, order)
        (placed,) = await next_messages(ws)
        await send_request(ws, "orderStrategy/startOrderStrategy", 2, strategy)
        (started,) = await next_messages(ws)
        await send_request(ws, "Account/List", 3)
        (accounts,) = await next_messages(ws)
    assert placed["s"] == 200, placed
    assert "orderId" in placed["d"]
    assert started["s"] == 200, started
    assert "orderStrategy" in started["d"]
    assert accounts["s"] == 200, accounts
    assert accounts["d"][0]["id"] == front.account_id


async def test_a_client_that_stops_reading_and_sending_is_still_dropped(
    tradovate: TradovateVenue, autojump_clock: object
) -> None:
    """A client that asks for snapshots until the socket's buffers are full, then neither
    reads nor sends, is let go soon after the silence timeout (10 s here), although its
    c frame can never be written."""
    front = tradovate.front
    token, _ = issue_tokens(front)
    # The client's own close would wait on a socket it never reads: it is cut short.
    with trio.move_on_after(60):
        try:
            async with connect(tradovate.ws_url, ping_interval=None, max_queue=1) as ws:
                await open_authorized(ws, token)
                for request_id in range(1, 1501):
                    body = {"users": [front.user_id]}
                    await send_request(ws, "user/syncrequest", request_id, body)
                await trio.sleep(1)
                assert front.sockets.count(SocketKind.USER) == 1
                await trio.sleep(10 + 5)
                assert front.sockets.count(SocketKind.USER) == 0
        except* (ConnectionClosed, trio.BrokenResourceError):
            # The venue let go of a socket with unread data: the client may see a reset.
            pass
    assert front.sockets.count(SocketKind.USER) == 0
