"""The #15 walkthrough, its fault half: the client written from the Tradovate digest alone
meets each failure the venue produces on demand (``POST /_sim/faults`` with ``"front":
"tradovate"``) and sees what the digest says a client sees: penalty tickets, 429 and 423,
the hourly limits, dead tokens, disabled strategies, the ``{}`` body, and the streams'
drops, stalls, duplicates, reorders, lost and late answers, shutdown and the silence drop."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio
from websockets.trio.client import connect

from tests.integration.tradovate.digest_client import (
    SAMPLE_LOGIN,
    WAIT,
    SocketClosed,
    TradovateSocket,
    entity_events,
    open_socket,
)
from tests.integration.tradovate.test_walkthrough import (
    World,
    front_contract,
    open_world,
    order_body,
    the_account,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

JSON = dict[str, Any]
# A market order's life on the user socket, as the walkthrough saw it (digest §7).
MARKET_ORDER_EVENTS = [
    ("order", "Created"),
    ("command", "Created"),
    ("orderVersion", "Created"),
    ("commandReport", "Created"),
    ("command", "Updated"),
    ("executionReport", "Created"),
    ("executionReport", "Created"),
    ("fill", "Created"),
    ("order", "Updated"),
    ("position", "Created"),
    ("cashBalance", "Updated"),
]


async def request(world: World, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with trio.fail_after(WAIT):
        return await world.http.request(method, path, **kwargs)


async def ready_to_trade(world: World) -> tuple[JSON, JSON, JSON]:
    login = await world.log_in()
    contract = await front_contract(world)
    account = await the_account(world)
    await world.control.set_prices({"MNQ1!": "21000.00"})
    return login, account, contract


@asynccontextmanager
async def synced_socket(world: World, nursery: trio.Nursery) -> AsyncIterator[TradovateSocket]:
    """A user socket authorized with the REST login's token, synced, sending heartbeats."""
    async with open_socket(world.ws_url) as user:
        nursery.start_soon(user.heartbeats)
        assert await user.authorize(world.login["accessToken"]) == {"s": 200, "i": 0}
        sync = await user.request("user/syncrequest", {"users": [world.login["userId"]]})
        assert sync["s"] == 200
        yield user


async def closed(socket: TradovateSocket, seconds: float = WAIT) -> list[Any] | None:
    """Read until the socket ends; its ``c`` frame, if it sent one."""
    with trio.fail_after(seconds):
        try:
            while True:
                await socket.read_frame()
        except SocketClosed as exc:
            return exc.close_frame


async def test_penalty_ticket_then_resend_with_it_after_p_time(autojump_clock: object) -> None:
    """A ticket answers HTTP 200 {p-ticket, p-time}; the same body plus p-ticket sent before
    p-time is ticketed again; after p-time it places the order; a p-captcha ticket waits the hour."""
    async with open_world() as world:
        _, account, contract = await ready_to_trade(world)
        await world.fault("p_ticket", count=1, seconds=5)
        body = order_body(account, contract, clOrdId="pen-1")
        ticket = await world.post("/order/placeorder", body)
        assert set(ticket) == {"p-ticket", "p-time"}, ticket
        assert ticket["p-time"] == 5
        assert await world.get("/order/list") == []  # a ticket places nothing
        await trio.sleep(2)
        again = await world.post("/order/placeorder", {**body, "p-ticket": ticket["p-ticket"]})
        assert "p-ticket" in again, again
        assert await world.get("/order/list") == []
        await trio.sleep(again["p-time"] + 0.5)
        placed = await world.post("/order/placeorder", {**body, "p-ticket": again["p-ticket"]})
        assert "orderId" in placed, placed
        assert [o["id"] for o in await world.get("/order/list")] == [placed["orderId"]]

        await world.fault("p_ticket", count=1, seconds=3, captcha=True)
        captcha = await world.get("/account/list")
        assert captcha["p-captcha"] is True
        assert captcha["p-time"] == 3
        # Digest §6: p-captcha means wait an hour, whatever p-time says.
        await trio.sleep(3.5)
        early = await world.get("/account/list", **{"p-ticket": captcha["p-ticket"]})
        assert "p-ticket" in early, early
        await trio.sleep(60 * 60)
        # A GET carries its ticket in the query.
        accounts = await world.get("/account/list", **{"p-ticket": captcha["p-ticket"]})
        assert isinstance(accounts, list), accounts
        assert [a["id"] for a in accounts] == [account["id"]]


async def test_penalty_ticket_over_the_socket_is_in_d(autojump_clock: object) -> None:
    """Over the user socket a ticket is the answer's d (status 200); the same body with the
    p-ticket, resent after p-time on the socket, goes through."""
    async with open_world() as world, trio.open_nursery() as nursery:
        _, account, contract = await ready_to_trade(world)
        async with synced_socket(world, nursery) as user:
            await world.fault("p_ticket", count=1, seconds=4)
            body = order_body(account, contract, clOrdId="ws-pen")
            ticket = await user.request("order/placeorder", body)
            assert ticket["s"] == 200, ticket
            assert set(ticket["d"]) == {"p-ticket", "p-time"}, ticket
            await trio.sleep(ticket["d"]["p-time"] + 0.5)
            placed = await user.request(
                "order/placeorder", {**body, "p-ticket": ticket["d"]["p-ticket"]}
            )
            assert "orderId" in placed["d"], placed
            nursery.cancel_scope.cancel()


async def test_429_and_423_have_empty_bodies_and_429_on_the_socket(
    autojump_clock: object,
) -> None:
    """429 and 423 answer with Content-Length 0; over the socket {"s":429,"i":id}, no d."""
    async with open_world() as world, trio.open_nursery() as nursery:
        await world.log_in()
        for status in (429, 423):
            await world.fault("http_status", status=status, count=1)
            response = await request(world, "GET", "/account/list")
            assert response.status_code == status
            assert response.headers["content-length"] == "0"
            assert response.content == b""
            assert (await request(world, "GET", "/account/list")).status_code == 200
        async with synced_socket(world, nursery) as user:
            for status in (429, 423):
                await world.fault("http_status", status=status, count=1)
                request_id = await user.send("account/list")
                assert await user.answer(request_id) == {"s": status, "i": request_id}
                assert (await user.request("account/list"))["s"] == 200
            nursery.cancel_scope.cancel()


async def test_five_failed_logins_then_a_captcha_ticket(autojump_clock: object) -> None:
    """Five wrong passwords answer errorText; the sixth login, right, is a captcha ticket;
    resent with it before the hour it is ticketed again, after it it logs in."""
    async with open_world() as world:
        wrong = {**SAMPLE_LOGIN, "password": "wrong"}
        for _ in range(5):
            answer = await world.post("/auth/accesstokenrequest", wrong)
            assert set(answer) == {"errorText"}, answer
        ticket = await world.post("/auth/accesstokenrequest", SAMPLE_LOGIN)
        assert ticket["p-captcha"] is True, ticket
        assert "accessToken" not in ticket
        await trio.sleep(ticket["p-time"] + 1)
        early = await world.post(
            "/auth/accesstokenrequest", {**SAMPLE_LOGIN, "p-ticket": ticket["p-ticket"]}
        )
        # Digest §1: a login's ticket always means captcha, wait the hour.
        assert "accessToken" not in early, early
        await trio.sleep(60 * 60)
        login = await world.post(
            "/auth/accesstokenrequest", {**SAMPLE_LOGIN, "p-ticket": early["p-ticket"]}
        )
        assert "accessToken" in login, login


async def test_a_client_logging_in_per_request_kills_its_own_sessions(
    autojump_clock: object,
) -> None:
    """Successful logins are not counted (no ticket), but a third one ends the first
    session: its token answers 401 and its socket closes."""
    async with open_world() as world, trio.open_nursery() as nursery:
        first = await world.log_in()
        async with synced_socket(world, nursery) as user:
            logins = [await world.log_in() for _ in range(6)]
            assert all("accessToken" in login for login in logins)
            old = {"Authorization": f"Bearer {first['accessToken']}"}
            assert (await request(world, "GET", "/account/list", headers=old)).status_code == 401
            second = {"Authorization": f"Bearer {logins[-3]['accessToken']}"}
            refused = await request(world, "GET", "/account/list", headers=second)
            assert refused.status_code == 401
            assert (await request(world, "GET", "/account/list")).status_code == 200
            assert await closed(user) == [3000, "Session closed"]
            nursery.cancel_scope.cancel()


async def test_the_sixteenth_renewal_in_an_hour_is_ticketed(autojump_clock: object) -> None:
    """Fifteen renewals an hour succeed; the 16th is a ticket, honoured after p-time."""
    async with open_world() as world:
        await world.log_in()
        for _ in range(15):
            renewed = await world.get("/auth/renewaccesstoken")
            assert "accessToken" in renewed, renewed
            await trio.sleep(60)
        ticket = await world.get("/auth/renewaccesstoken")
        assert "p-ticket" in ticket, ticket
        assert "accessToken" not in ticket
        await trio.sleep(ticket["p-time"] + 0.5)
        honoured = await world.get("/auth/renewaccesstoken", **{"p-ticket": ticket["p-ticket"]})
        assert "accessToken" in honoured, honoured


@pytest.mark.parametrize("fault", ["expire_tokens", "revoke_tokens"])
async def test_dead_tokens_answer_401_everywhere(fault: str, autojump_clock: object) -> None:
    """An expired or revoked token: REST 401, authorize 401 "Invalid access token", no
    renewal; revoked, its socket closes; a fresh login works again."""
    async with open_world() as world, trio.open_nursery() as nursery:
        login = await world.log_in()
        async with synced_socket(world, nursery) as user:
            await world.fault(fault)
            if fault == "revoke_tokens":
                # The sessions end: their authorized sockets are closed.
                assert await closed(user) == [3000, "Session closed"]
        assert (await request(world, "GET", "/account/list")).status_code == 401
        assert (await request(world, "GET", "/auth/renewaccesstoken")).status_code == 401
        for url, token in ((world.ws_url, "accessToken"), (world.md_url, "mdAccessToken")):
            async with open_socket(url) as socket:
                assert await socket.authorize(login[token]) == {
                    "i": 0,
                    "s": 401,
                    "d": "Invalid access token",
                }
        await world.log_in()
        assert (await request(world, "GET", "/account/list")).status_code == 200
        nursery.cancel_scope.cancel()


async def test_order_strategy_disabled_and_the_empty_failure_body(
    autojump_clock: object,
) -> None:
    """strategy_disabled refuses placeoso and startorderstrategy with "Order strategy is
    disabled" (a plain order still goes); reject_next answers {} and places nothing."""
    async with open_world() as world:
        _, account, contract = await ready_to_trade(world)
        await world.fault("strategy_disabled")
        oso = order_body(
            account,
            contract,
            bracket1={"action": "Sell", "orderType": "Limit", "price": 21020.00},
        )
        strategy = {
            "accountId": account["id"],
            "accountSpec": account["name"],
            "symbol": contract["name"],
            "action": "Buy",
            "orderStrategyTypeId": 2,
            "params": '{"entryVersion":{"orderQty":1,"orderType":"Market"},'
            '"brackets":[{"qty":1,"profitTarget":20,"stopLoss":-10,"trailingStop":false}]}',
            "isAutomated": True,
        }
        for path, body in (
            ("/order/placeoso", oso),
            ("/orderStrategy/startorderstrategy", strategy),
        ):
            refused = await world.post(path, body)
            assert "Order strategy is disabled" in refused["errorText"], (path, refused)
        assert await world.get("/order/list") == []
        assert "orderId" in await world.post("/order/placeorder", order_body(account, contract))
        await world.fault("strategy_disabled", on=False)
        assert "oso1Id" in await world.post("/order/placeoso", oso)

        before = len(await world.get("/order/list"))
        await world.fault("reject_next")
        assert await world.post("/order/placeorder", order_body(account, contract)) == {}
        assert len(await world.get("/order/list")) == before


async def test_stream_drop_then_a_fresh_socket_resyncs(autojump_clock: object) -> None:
    """drop_stream closes the socket with no c frame; a new socket re-authorizes and its
    snapshot holds what happened meanwhile."""
    async with open_world() as world, trio.open_nursery() as nursery:
        _, account, contract = await ready_to_trade(world)
        async with synced_socket(world, nursery) as user:
            await world.fault("drop_stream")
            assert await closed(user) is None
        placed = await world.post("/order/placeorder", order_body(account, contract))
        async with open_socket(world.ws_url) as again:
            assert await again.authorize(world.login["accessToken"]) == {"s": 200, "i": 0}
            sync = await again.request("user/syncrequest", {"users": [world.login["userId"]]})
            assert placed["orderId"] in [o["id"] for o in sync["d"]["orders"]]
        nursery.cancel_scope.cancel()


async def test_stall_then_delivery_in_order(autojump_clock: object) -> None:
    """stall_stream: nothing (not even h) for its seconds, then the held events in order."""
    async with open_world() as world, trio.open_nursery() as nursery:
        _, account, contract = await ready_to_trade(world)
        async with synced_socket(world, nursery) as user:
            await world.fault("stall_stream", seconds=20)
            start = trio.current_time()
            await world.post("/order/placeorder", order_body(account, contract))
            await user.read_frame(seconds=60)
            assert trio.current_time() - start >= 19.5
            await user.props_until(lambda p: len(p) >= len(MARKET_ORDER_EVENTS))
            assert entity_events(user.props()) == MARKET_ORDER_EVENTS
            nursery.cancel_scope.cancel()


async def test_duplicate_and_reordered_events(autojump_clock: object) -> None:
    """duplicate_events sends each props twice; reorder_events puts the Trade report and
    the fill before the order's Created."""
    async with open_world() as world, trio.open_nursery() as nursery:
        _, account, contract = await ready_to_trade(world)
        async with synced_socket(world, nursery) as user:
            await world.fault("duplicate_events")
            await world.post("/order/placeorder", order_body(account, contract))
            await user.props_until(lambda p: len(p) >= 2 * len(MARKET_ORDER_EVENTS))
            props = user.props()
            assert props[0::2] == props[1::2]
            assert entity_events(props[0::2]) == MARKET_ORDER_EVENTS
            await world.fault("clear")
            user.events.clear()

            await world.fault("reorder_events")
            await world.post("/order/placeorder", order_body(account, contract, action="Sell"))
            await user.props_until(lambda p: ("cashBalance", "Updated") in entity_events(p))
            seen = entity_events(user.props())
            # The position exists since the first order: Updated, not Created.
            expected = [
                ("position", "Updated") if event == ("position", "Created") else event
                for event in MARKET_ORDER_EVENTS
            ]
            assert sorted(seen) == sorted(expected), seen
            assert seen.index(("fill", "Created")) < seen.index(("order", "Created")), seen
            nursery.cancel_scope.cancel()


async def test_a_lost_rest_answer_is_found_by_its_clordid(autojump_clock: object) -> None:
    """lose_response: the connection drops before the answer, yet the order exists; the
    client finds it as the digest says, scanning command/list for its clOrdId."""
    async with open_world() as world:
        _, account, contract = await ready_to_trade(world)
        await world.fault("lose_response", count=1)
        with pytest.raises(httpx.TransportError):
            await request(
                world, "POST", "/order/placeorder", json=order_body(account, contract, clOrdId="L1")
            )
        (command,) = [c for c in await world.get("/command/list") if c.get("clOrdId") == "L1"]
        order = await world.get("/order/item", id=command["orderId"])
        assert order["ordStatus"] == "Filled"


async def test_lost_socket_answer_and_delayed_acks(autojump_clock: object) -> None:
    """Over the socket a lost answer never comes but the order is placed; with delay_acks
    the order's events arrive before its REST answer."""
    async with open_world() as world, trio.open_nursery() as nursery:
        _, account, contract = await ready_to_trade(world)
        async with synced_socket(world, nursery) as user:
            await world.fault("lose_response", count=1)
            # Armed on REST and socket alike: the socket's answer is lost here.
            lost = await user.send("order/placeorder", order_body(account, contract, clOrdId="S1"))
            await user.props_until(lambda p: ("cashBalance", "Updated") in entity_events(p))
            with trio.move_on_after(10):
                await user.answer(lost)
                raise AssertionError("the lost answer came")
            commands = await world.get("/command/list")
            assert [c["clOrdId"] for c in commands if c.get("clOrdId") == "S1"] == ["S1"]
            await world.fault("clear")
            user.events.clear()

            await world.fault("delay_acks", ms=2000)
            answers: list[JSON] = []
            answered = trio.Event()

            async def place() -> None:
                answers.append(await world.post("/order/placeorder", order_body(account, contract)))
                answered.set()

            nursery.start_soon(place)
            await user.props_until(lambda p: ("cashBalance", "Updated") in entity_events(p))
            assert answers == []  # the events came first
            with trio.fail_after(WAIT):
                await answered.wait()
            assert "orderId" in answers[0]
            nursery.cancel_scope.cancel()


async def test_shutdown_event_before_the_close(autojump_clock: object) -> None:
    """shutdown: {"e":"shutdown"} with its reasonCode, then a c frame, then the close."""
    async with open_world() as world, trio.open_nursery() as nursery:
        await world.log_in()
        async with synced_socket(world, nursery) as user:
            await world.fault("shutdown", reasonCode="Maintenance")
            frame = await closed(user)
            assert [e["e"] for e in user.events] == ["shutdown"]
            assert user.events[0]["d"]["reasonCode"] == "Maintenance"
            assert frame is not None
            assert frame[0] == 3000
            nursery.cancel_scope.cancel()


async def test_a_silent_client_is_dropped_after_30_s(autojump_clock: object) -> None:
    """A client that sends no [] is dropped with a c frame at 30 s of silence, not before."""
    async with open_world() as world:
        await world.log_in()
        async with open_socket(world.ws_url) as user:
            assert await user.authorize(world.login["accessToken"]) == {"s": 200, "i": 0}
            start = trio.current_time()
            frame = await closed(user)
            assert 29.5 <= trio.current_time() - start <= 31
            assert frame == [3000, "No heartbeat from client"]


async def test_a_busy_client_that_keeps_its_heartbeats_is_not_dropped(
    autojump_clock: object,
) -> None:
    """A client that reads nothing for two minutes but sends [] stays connected: Tradovate's
    liveness is its heartbeats, not websocket pings (a missed pong would close with 1011)."""
    async with open_world() as world, trio.open_nursery() as nursery:
        await world.log_in()
        # websockets' default max_queue: the client's reading stops while it is busy.
        async with connect(world.ws_url, ping_interval=None, open_timeout=WAIT) as ws:
            user = TradovateSocket(ws)
            nursery.start_soon(user.heartbeats)
            assert await user.authorize(world.login["accessToken"]) == {"s": 200, "i": 0}
            await trio.sleep(120)
            request_id = await user.send("account/list")
            assert (await user.answer(request_id))["s"] == 200
            assert user.close_frame is None
            nursery.cancel_scope.cancel()
