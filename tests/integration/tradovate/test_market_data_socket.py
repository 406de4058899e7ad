"""The Tradovate market-data websocket over real loopback: quotes from the venue's prints."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from websockets.trio.client import connect

from brokers.sim.core.contracts import PRODUCTS, front_contract
from brokers.sim.core.tape import PricePrint
from tests.integration.tradovate.conftest import issue_tokens
from tests.integration.tradovate.ws_client import (
    next_frame,
    next_messages,
    open_authorized,
    send_request,
)

if TYPE_CHECKING:
    import trio

    from tests.integration.tradovate.conftest import TradovateVenue


def mnq_front(tradovate: TradovateVenue) -> str:
    return front_contract(PRODUCTS["MNQ"], tradovate.front.clock().date()).name


async def test_subscribe_quote_sends_current_quote_then_each_print(
    tradovate: TradovateVenue,
) -> None:
    """subscribeQuote answers 200, sends the current quote, then one per print of it."""
    front = tradovate.front
    name = mnq_front(tradovate)
    _, md_token = issue_tokens(front)
    async with connect(tradovate.md_url, ping_interval=None) as ws:
        await open_authorized(ws, md_token)
        await send_request(ws, "md/subscribeQuote", 1, {"symbol": name})
        assert await next_messages(ws) == [{"s": 200, "i": 1, "d": {}}]
        (current,) = await next_messages(ws)
        (quote,) = current["d"]["quotes"]
        price = front.core.prices()[name]
        assert quote["entries"]["Trade"]["price"] == float(price)
        front.market_data.publish(
            [
                PricePrint(1, "ESZ9", Decimal(6000), front.clock()),
                PricePrint(2, name, Decimal("21000.50"), front.clock()),
            ]
        )
        (event,) = await next_messages(ws)
    assert event["e"] == "md"
    (moved,) = event["d"]["quotes"]
    contract = front_contract(PRODUCTS["MNQ"], front.clock().date())
    assert moved["contractId"] == contract.id
    assert moved["timestamp"].endswith("Z")
    assert moved["entries"] == {
        "Bid": {"price": 21000.25, "size": 10},
        "Offer": {"price": 21000.75, "size": 10},
        "Trade": {"price": 21000.5, "size": 1},
    }


async def test_contract_id_subscribes_and_unsubscribe_stops_quotes(
    tradovate: TradovateVenue, autojump_clock: trio.abc.Clock
) -> None:
    """A contract id subscribes like its name; after unsubscribeQuote only h comes."""
    front = tradovate.front
    contract = front_contract(PRODUCTS["MES"], front.clock().date())
    _, md_token = issue_tokens(front)
    async with connect(tradovate.md_url, ping_interval=None) as ws:
        await open_authorized(ws, md_token)
        await send_request(ws, "md/subscribequote", 1, {"symbol": contract.id})
        assert (await next_messages(ws))[0]["s"] == 200
        await next_messages(ws)
        await send_request(ws, "md/unsubscribequote", 2, {"symbol": contract.name})
        assert (await next_messages(ws))[0] == {"s": 200, "i": 2, "d": {}}
        front.market_data.publish([PricePrint(3, contract.name, Decimal(6001), front.clock())])
        assert (await next_frame(ws, heartbeats=True)).kind == "h"


async def test_unknown_and_continuous_symbols_are_refused(tradovate: TradovateVenue) -> None:
    """An unlisted contract and TradingView's MNQ1! answer 400 Unknown symbol."""
    _, md_token = issue_tokens(tradovate.front)
    async with connect(tradovate.md_url, ping_interval=None) as ws:
        await open_authorized(ws, md_token)
        for request_id, symbol in enumerate(["XYZZ6", "MNQ1!", "12"], start=1):
            await send_request(ws, "md/subscribeQuote", request_id, {"symbol": symbol})
            (answer,) = await next_messages(ws)
            assert answer == {"s": 400, "i": request_id, "d": f"Unknown symbol: {symbol}"}


async def test_md_socket_takes_only_the_md_token(tradovate: TradovateVenue) -> None:
    """The user's accessToken does not authorize the market-data socket."""
    access, _ = issue_tokens(tradovate.front)
    async with connect(tradovate.md_url, ping_interval=None) as ws:
        await next_frame(ws)
        await send_request(ws, "authorize", 0, access)
        assert (await next_messages(ws))[0]["s"] == 401
