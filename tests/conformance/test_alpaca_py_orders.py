"""alpaca-py against the venue's multi-leg orders, replace and calendar."""

from __future__ import annotations

from datetime import date

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)

from brokers.sim import SimControl
from tests.conformance.conftest import Trading, Venue, in_thread


def bracket(qty: int = 5) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=110),
        stop_loss=StopLossRequest(stop_price=95),
    )


async def test_bracket_order_comes_back_with_its_legs(trading: Trading) -> None:
    """A bracket parses as Order with two legs; the stop leg stays held once the entry fills."""
    order = await in_thread(lambda: trading.submit_order(bracket()))
    assert order.order_class is OrderClass.BRACKET
    assert order.legs is not None
    take_profit, stop_loss = order.legs
    assert float(take_profit.limit_price or 0) == 110
    assert float(stop_loss.stop_price or 0) == 95
    found = await in_thread(lambda: trading.get_order_by_id(order.id))
    assert found.status is OrderStatus.FILLED
    assert found.legs is not None
    assert [leg.status for leg in found.legs] == [OrderStatus.NEW, OrderStatus.HELD]


async def test_bracket_take_profit_cancels_the_stop(trading: Trading, venue: Venue) -> None:
    """When the take-profit fills, alpaca-py sees the stop leg canceled."""
    order = await in_thread(lambda: trading.submit_order(bracket()))
    async with SimControl(venue.endpoints) as control:
        await control.set_prices({"AAPL": "111"})
    found = await in_thread(lambda: trading.get_order_by_id(order.id))
    assert found.legs is not None
    assert [leg.status for leg in found.legs] == [OrderStatus.FILLED, OrderStatus.CANCELED]
    assert await in_thread(trading.get_all_positions) == []


async def test_nested_listing_rolls_legs_under_their_parent(trading: Trading) -> None:
    """nested=true lists the bracket once with its legs; without it, legs stand alone."""
    order = await in_thread(lambda: trading.submit_order(bracket()))
    nested = await in_thread(
        lambda: trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, nested=True))
    )
    assert [o.id for o in nested] == [order.id]
    flat = await in_thread(
        lambda: trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    )
    assert len(flat) == 3


async def test_oco_exit_pair_for_a_held_position(trading: Trading) -> None:
    """An oco sell parses with its stop leg, both working against the held shares."""
    await in_thread(
        lambda: trading.submit_order(
            MarketOrderRequest(
                symbol="AAPL", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
    )
    oco = await in_thread(
        lambda: trading.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=5,
                side=OrderSide.SELL,
                time_in_force=TimeInForce.GTC,
                order_class=OrderClass.OCO,
                take_profit=TakeProfitRequest(limit_price=120),
                stop_loss=StopLossRequest(stop_price=90),
            )
        )
    )
    assert oco.order_class is OrderClass.OCO
    assert oco.legs is not None
    assert [leg.status for leg in oco.legs] == [OrderStatus.HELD]


async def test_replace_order_returns_the_new_order(trading: Trading) -> None:
    """PATCH parses as the new Order, which names the one it replaces."""
    resting = await in_thread(
        lambda: trading.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=2,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=90,
            )
        )
    )
    new = await in_thread(
        lambda: trading.replace_order_by_id(
            resting.id, ReplaceOrderRequest(qty=3, limit_price=91.5)
        )
    )
    assert new.replaces == resting.id
    assert (new.qty, new.limit_price) == ("3", "91.5")
    old = await in_thread(lambda: trading.get_order_by_id(resting.id))
    assert old.status is OrderStatus.REPLACED
    assert old.replaced_by == new.id
    with pytest.raises(APIError) as again:
        await in_thread(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(qty=1)))
    assert (again.value.status_code, again.value.code) == (422, 42210000)


async def test_calendar_lists_the_asked_days(trading: Trading) -> None:
    """GET /v2/calendar parses as alpaca-py's Calendar, one entry per day asked."""
    days = await in_thread(
        lambda: trading.get_calendar(
            GetCalendarRequest(start=date(2026, 3, 2), end=date(2026, 3, 8))
        )
    )
    assert [d.date for d in days] == [date(2026, 3, n) for n in range(2, 9)]
    assert (days[0].open.hour, days[0].close.hour) == (9, 16)
