"""alpaca-py against the rest of an order's life: every stream event type the venue produces
parses as its TradeUpdate, a bracket's nested legs parse, and minute bars reach its
StockDataStream."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import trio
from alpaca.trading.enums import OrderClass, OrderStatus, TradeEvent

from brokers.sim import SimControl
from tests.conformance.conftest import (
    KEY,
    SECRET,
    Bar,
    Venue,
    collect_bars,
    serving,
    trade_updates_during,
    venue_config,
)

# alpaca-py's stream client is websockets' legacy client, deprecated there.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
AUTH = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
# Two minutes before the venue's session closes at 21:00 UTC.
START = datetime(2026, 1, 5, 20, 58, tzinfo=UTC)


def order(**fields: object) -> dict[str, object]:
    return (
        {"symbol": "AAPL", "qty": "2", "side": "buy", "type": "limit", "limit_price": "90"}
        | {"time_in_force": "day"}
        | fields
    )


async def test_every_lifecycle_event_parses_as_trade_update() -> None:
    """pending_new, rejected, pending_replace, replaced, pending_cancel, canceled, expired
    (an ioc and a day order at the close) and done_for_day all parse as TradeUpdate."""
    async with serving(venue_config(start_time=START)) as venue:

        async def trade() -> None:
            async with (
                httpx.AsyncClient(base_url=venue.endpoints.alpaca_url, headers=AUTH) as http,
                SimControl(venue.endpoints) as control,
            ):
                for option in ("pending_new", "pending_replace", "pending_cancel", "done_for_day"):
                    await control.fault(option)
                await control.fault("reject_after_accept")
                (await http.post("/v2/orders", json=order())).raise_for_status()
                resting = (await http.post("/v2/orders", json=order())).json()
                patched = await http.patch(f"/v2/orders/{resting['id']}", json={"qty": "3"})
                (await http.delete(f"/v2/orders/{patched.json()['id']}")).raise_for_status()
                await http.post("/v2/orders", json=order(time_in_force="ioc"))
                await http.post("/v2/orders", json=order(client_order_id="day-order"))
                await http.post("/v2/orders", json=order(time_in_force="gtc"))
                await control.set_clock(datetime(2026, 1, 5, 21, 1, tzinfo=UTC))

        updates = await trade_updates_during(venue, 18, trade)
    events = [str(getattr(u.event, "value", u.event)) for u in updates]
    assert events == [
        *("pending_new", "rejected"),
        *("pending_new", "new", "pending_replace", "replaced", "new", "pending_cancel", "canceled"),
        *("pending_new", "new", "expired"),
        *("pending_new", "new", "pending_new", "new"),
        *("expired", "done_for_day"),
    ]
    assert updates[1].event == TradeEvent.REJECTED
    assert updates[1].order.status is OrderStatus.REJECTED
    assert updates[1].order.failed_at is not None
    assert updates[4].order.status is OrderStatus.PENDING_REPLACE
    day_expiry, resting = updates[16], updates[17]
    assert day_expiry.order.client_order_id == "day-order"
    assert day_expiry.order.expired_at == datetime(2026, 1, 5, 21, tzinfo=UTC)
    assert resting.order.status is OrderStatus.DONE_FOR_DAY
    assert all(u.execution_id is not None for u in updates)


async def test_bracket_legs_nested_in_events_parse(venue: Venue) -> None:
    """A bracket's new event carries its two legs as alpaca-py Orders."""

    async def place() -> None:
        bracket = order(
            order_class="bracket",
            time_in_force="gtc",
            take_profit={"limit_price": 110},
            stop_loss={"stop_price": 85},
        )
        async with httpx.AsyncClient(base_url=venue.endpoints.alpaca_url, headers=AUTH) as http:
            (await http.post("/v2/orders", json=bracket)).raise_for_status()

    (new,) = await trade_updates_during(venue, 1, place)
    assert new.order.order_class is OrderClass.BRACKET
    assert new.order.legs is not None
    assert [(leg.status, leg.order_class) for leg in new.order.legs] == [
        (OrderStatus.HELD, OrderClass.BRACKET),
        (OrderStatus.HELD, OrderClass.BRACKET),
    ]
    assert Decimal(str(new.order.legs[1].stop_price)) == Decimal(85)


async def test_stock_data_stream_receives_minute_bars(venue: Venue) -> None:
    """alpaca-py's StockDataStream (msgpack) gets the bar of a minute the venue's clock
    moved past, with the minute's prices."""
    received: list[Bar] = []

    async def listen() -> None:
        received.extend(
            await trio.to_thread.run_sync(collect_bars, venue.endpoints.data_url, "AAPL", 10)
        )

    async with trio.open_nursery() as nursery, SimControl(venue.endpoints) as control:
        nursery.start_soon(listen)
        # The subscription comes from another thread, unseen here: complete a minute with a
        # trade in it until a bar has arrived.
        with trio.fail_after(10):
            while not received:
                await control.set_prices({"AAPL": "101.00"})
                await control.advance_clock(60)
                await trio.sleep(0.1)
    bar = received[0]
    assert bar.symbol == "AAPL"
    assert bar.close == 101.0
    assert bar.high >= bar.low
    assert bar.volume > 0
    assert bar.timestamp.tzinfo is not None
    assert bar.timestamp.second == 0


async def test_a_cancel_refused_after_a_fill_parses(venue: Venue) -> None:
    """A pending cancel that a fill overtakes: pending_cancel, fill, order_cancel_rejected
    all parse as TradeUpdate."""

    async def race() -> None:
        async with (
            httpx.AsyncClient(base_url=venue.endpoints.alpaca_url, headers=AUTH) as http,
            SimControl(venue.endpoints) as control,
        ):
            await control.fault("pending_cancel", ms=300)
            placed = (await http.post("/v2/orders", json=order())).json()
            (await http.delete(f"/v2/orders/{placed['id']}")).raise_for_status()
            await control.set_prices({"AAPL": "89"})

    updates = await trade_updates_during(venue, 4, race)
    assert [str(getattr(u.event, "value", u.event)) for u in updates] == [
        "new",
        "pending_cancel",
        "fill",
        "order_cancel_rejected",
    ]
    assert updates[1].order.status is OrderStatus.PENDING_CANCEL
    assert updates[3].order.status is OrderStatus.FILLED
