"""alpaca-py's TradingStream against the paper venue: every event parses as its TradeUpdate."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import trio
from alpaca.trading.enums import TradeEvent

from brokers.sim import SimControl
from tests.conformance.conftest import (
    KEY,
    SECRET,
    Quote,
    Trade,
    Venue,
    collect_market_data,
    serving,
    trade_updates_during,
    venue_config,
)

# alpaca-py's stream client is websockets' legacy client, deprecated there.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
AUTH = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}


def order(**fields: object) -> dict[str, object]:
    return (
        {"symbol": "AAPL", "qty": "2", "side": "buy", "type": "market"}
        | {"time_in_force": "day"}
        | fields
    )


async def post(
    venue: Venue, path: str, body: object = None, method: str = "POST"
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=venue.endpoints.alpaca_url, headers=AUTH) as client:
        return await client.request(method, path, json=body)


async def test_new_and_fill_parse_as_trade_update(venue: Venue) -> None:
    """A market order's new and fill arrive as TradeUpdate with price, qty, position_qty."""

    async def buy() -> None:
        (await post(venue, "/v2/orders", order(client_order_id="s-1"))).raise_for_status()

    updates = await trade_updates_during(venue, 2, buy)
    assert [u.event for u in updates] == [TradeEvent.NEW, TradeEvent.FILL]
    fill = updates[1]
    assert fill.order.client_order_id == "s-1"
    assert fill.price == 100.0
    assert fill.qty == 2.0
    assert fill.position_qty == 2.0
    assert fill.execution_id is not None
    assert fill.timestamp.tzinfo is not None


async def test_canceled_event_parses(venue: Venue) -> None:
    """A resting order's cancel arrives as a canceled TradeUpdate."""

    async def rest_then_cancel() -> None:
        placed = await post(venue, "/v2/orders", order(type="limit", limit_price="90"))
        placed.raise_for_status()
        gone = await post(venue, f"/v2/orders/{placed.json()['id']}", method="DELETE")
        assert gone.status_code == 204

    updates = await trade_updates_during(venue, 2, rest_then_cancel)
    assert [u.event for u in updates] == [TradeEvent.NEW, TradeEvent.CANCELED]
    assert Decimal(str(updates[1].order.limit_price)) == Decimal(90)


async def test_partial_fills_and_replace_events_parse() -> None:
    """partial_fill, fill, replaced and the replacement's new all parse as TradeUpdate."""
    async with serving(venue_config(fill_size=Decimal(1))) as venue:

        async def trade() -> None:
            (await post(venue, "/v2/orders", order(qty="2"))).raise_for_status()
            async with SimControl(venue.endpoints) as control:
                await control.set_prices({"AAPL": "101"})
            resting = await post(venue, "/v2/orders", order(type="limit", limit_price="90"))
            patched = await post(
                venue, f"/v2/orders/{resting.json()['id']}", {"limit_price": "91"}, "PATCH"
            )
            patched.raise_for_status()

        updates = await trade_updates_during(venue, 6, trade)
    assert [u.event for u in updates] == [
        TradeEvent.NEW,
        TradeEvent.PARTIAL_FILL,
        TradeEvent.FILL,
        TradeEvent.NEW,
        TradeEvent.REPLACED,
        TradeEvent.NEW,
    ]
    assert [u.position_qty for u in updates[1:3]] == [1.0, 2.0]
    assert updates[4].order.replaced_by == updates[5].order.id


async def test_bracket_events_parse(venue: Venue) -> None:
    """A bracket's entry fill, armed take-profit, exit fill and sibling cancel all parse."""

    async def trade() -> None:
        bracket = order(
            order_class="bracket",
            time_in_force="gtc",
            take_profit={"limit_price": 110},
            stop_loss={"stop_price": 95.0},
        )
        (await post(venue, "/v2/orders", bracket)).raise_for_status()
        async with SimControl(venue.endpoints) as control:
            await control.set_prices({"AAPL": "111"})

    updates = await trade_updates_during(venue, 5, trade)
    assert [(u.event, u.order.type) for u in updates] == [  # OrderType is a str enum
        (TradeEvent.NEW, "market"),
        (TradeEvent.FILL, "market"),
        (TradeEvent.NEW, "limit"),
        (TradeEvent.FILL, "limit"),
        (TradeEvent.CANCELED, "stop"),
    ]


async def test_stock_data_stream_receives_trades_and_quotes(venue: Venue) -> None:
    """alpaca-py's StockDataStream (msgpack) gets the venue's trade and quote for a symbol."""
    received = await trio.to_thread.run_sync(
        collect_market_data, venue.endpoints.data_url, "AAPL", 10
    )
    trades = [r for r in received if isinstance(r, Trade)]
    quotes = [r for r in received if isinstance(r, Quote)]
    assert trades[0].symbol == "AAPL"
    assert trades[0].price == 100.0
    assert trades[0].timestamp.tzinfo is not None
    assert (quotes[0].bid_price, quotes[0].ask_price) == (99.99, 100.01)
