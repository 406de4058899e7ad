"""alpaca-py's TradingClient against the paper venue: every call parses into its models."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import (
    AssetStatus,
    OrderSide,
    OrderStatus,
    OrderType,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetAssetsRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopOrderRequest,
)

from brokers.base import utc_now
from brokers.sim import SimControl
from tests.conformance.conftest import Trading, Venue, in_thread


def market(
    symbol: str = "AAPL", qty: str = "10", side: OrderSide = OrderSide.BUY, **kw: object
) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, qty=float(qty), side=side, time_in_force=TimeInForce.DAY, **kw
    )


async def test_account_parses_as_trade_account(trading: Trading) -> None:
    """GET /v2/account parses as alpaca-py's TradeAccount with the configured cash."""
    account = await in_thread(trading.get_account)
    assert account.cash == "100000"
    assert account.buying_power == "100000"
    assert account.status == "ACTIVE"


async def test_market_order_fills_and_is_found_by_client_order_id(trading: Trading) -> None:
    """A market order is accepted, fills at the venue price, and is found by its client id."""
    order = await in_thread(lambda: trading.submit_order(market(client_order_id="cid-1")))
    assert order.client_order_id == "cid-1"
    assert order.status is OrderStatus.ACCEPTED
    found = await in_thread(lambda: trading.get_order_by_client_id("cid-1"))
    assert found.id == order.id
    assert found.status is OrderStatus.FILLED
    assert found.filled_avg_price == "100"
    assert found.filled_qty == "10"


async def test_limit_and_stop_orders_rest_then_cancel(trading: Trading) -> None:
    """Unmarketable limit and stop orders rest as new and can be canceled by id."""
    limit = await in_thread(
        lambda: trading.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=90.5,
            )
        )
    )
    stop = await in_thread(
        lambda: trading.submit_order(
            StopOrderRequest(
                symbol="AAPL",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                stop_price=110,
            )
        )
    )
    assert limit.type is OrderType.LIMIT
    assert limit.limit_price == "90.5"
    assert stop.type is OrderType.STOP
    await in_thread(lambda: trading.cancel_order_by_id(limit.id))
    canceled = await in_thread(lambda: trading.get_order_by_id(limit.id))
    assert canceled.status is OrderStatus.CANCELED
    still_open = await in_thread(lambda: trading.get_order_by_id(stop.id))
    assert still_open.status is OrderStatus.NEW


async def test_list_orders_with_filters(trading: Trading) -> None:
    """GET /v2/orders honours status, symbols, side, direction, limit, after and until."""
    start = utc_now() - timedelta(seconds=1)
    await in_thread(lambda: trading.submit_order(market("AAPL", "1")))
    await in_thread(lambda: trading.submit_order(market("MSFT", "1")))
    resting = await in_thread(
        lambda: trading.submit_order(
            LimitOrderRequest(
                symbol="MSFT",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=300,
            )
        )
    )
    open_orders = await in_thread(lambda: trading.get_orders())
    assert [o.id for o in open_orders] == [resting.id]
    closed = await in_thread(
        lambda: trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    )
    assert {o.symbol for o in closed} == {"AAPL", "MSFT"}
    msft = await in_thread(
        lambda: trading.get_orders(
            GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=["MSFT"], direction=Sort.ASC)
        )
    )
    assert [o.symbol for o in msft] == ["MSFT", "MSFT"]
    assert msft[1].id == resting.id
    newest = await in_thread(
        lambda: trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=1))
    )
    assert [o.id for o in newest] == [resting.id]
    window = await in_thread(
        lambda: trading.get_orders(
            GetOrdersRequest(status=QueryOrderStatus.ALL, after=start, until=start)
        )
    )
    assert window == []
    sells = await in_thread(
        lambda: trading.get_orders(
            GetOrdersRequest(status=QueryOrderStatus.ALL, side=OrderSide.SELL)
        )
    )
    assert sells == []


async def test_positions_and_close_position(trading: Trading) -> None:
    """Positions parse as alpaca-py's Position; closing part then all of one flattens it."""
    await in_thread(lambda: trading.submit_order(market("AAPL", "10")))
    positions = await in_thread(trading.get_all_positions)
    assert [(p.symbol, p.qty) for p in positions] == [("AAPL", "10")]
    one = await in_thread(lambda: trading.get_open_position("AAPL"))
    assert one.avg_entry_price == "100"
    partial = await in_thread(lambda: trading.close_position("AAPL", ClosePositionRequest(qty="4")))
    assert partial.side is OrderSide.SELL
    assert partial.qty == "4"
    await in_thread(lambda: trading.close_position("AAPL"))
    assert await in_thread(trading.get_all_positions) == []


async def test_close_all_positions_and_cancel_all_orders(trading: Trading) -> None:
    """DELETE /v2/positions and DELETE /v2/orders parse as alpaca-py's multi-responses."""
    await in_thread(lambda: trading.submit_order(market("AAPL", "2")))
    await in_thread(
        lambda: trading.submit_order(
            LimitOrderRequest(
                symbol="MSFT",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=300,
            )
        )
    )
    canceled = await in_thread(trading.cancel_orders)
    assert [c.status for c in canceled] == [200]
    closed = await in_thread(trading.close_all_positions)
    assert [c.symbol for c in closed] == ["AAPL"]
    assert await in_thread(trading.get_all_positions) == []


async def test_clock_and_assets(trading: Trading) -> None:
    """The clock and assets parse as alpaca-py's Clock and Asset."""
    clock = await in_thread(trading.get_clock)
    assert clock.is_open
    assert clock.next_close > clock.timestamp
    assets = await in_thread(
        lambda: trading.get_all_assets(GetAssetsRequest(status=AssetStatus.ACTIVE))
    )
    assert {a.symbol for a in assets} == {"AAPL", "MSFT", "PENNY"}
    aapl = await in_thread(lambda: trading.get_asset("AAPL"))
    assert aapl.tradable
    assert aapl.fractionable


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (market(qty="100000"), 403, 40310000),
        (market(side=OrderSide.SELL, symbol="MSFT", qty="1.5"), 422, 42210000),
        (market(symbol="NOPE"), 422, 42210000),
    ],
    ids=["buying_power", "fractional_short", "unknown_asset"],
)
async def test_order_refusals_raise_api_error_with_alpaca_code(
    trading: Trading, request_: MarketOrderRequest, status: int, code: int
) -> None:
    """A refused order raises alpaca-py's APIError carrying Alpaca's status and code."""
    with pytest.raises(APIError) as refused:
        await in_thread(lambda: trading.submit_order(request_))
    assert refused.value.status_code == status
    assert refused.value.code == code


async def test_buying_power_refusal_names_the_figures(trading: Trading) -> None:
    """A 403 for buying power carries buying_power and cost_basis in its body."""
    with pytest.raises(APIError) as refused:
        await in_thread(lambda: trading.submit_order(market(qty="2000")))
    body = refused.value.response.json()
    assert (body["buying_power"], body["cost_basis"]) == ("100000", "200000")


async def test_duplicate_client_order_id_and_unknown_order(trading: Trading) -> None:
    """A reused client_order_id is 422 40010001; an unknown order id is 404 40410000."""
    await in_thread(lambda: trading.submit_order(market(client_order_id="same")))
    with pytest.raises(APIError) as duplicate:
        await in_thread(lambda: trading.submit_order(market(client_order_id="same")))
    assert (duplicate.value.status_code, duplicate.value.code) == (422, 40010001)
    with pytest.raises(APIError) as missing:
        await in_thread(lambda: trading.get_order_by_client_id("never-sent"))
    assert (missing.value.status_code, missing.value.code) == (404, 40410000)


async def test_injected_rate_limit_reaches_alpaca_py(trading: Trading, venue: Venue) -> None:
    """An injected 429 surfaces in alpaca-py as APIError 429 with code 42910000."""
    async with SimControl(venue.endpoints) as control:
        await control.fault("http_status", status=429, count=1)
    with pytest.raises(APIError) as limited:
        await in_thread(trading.get_account)
    assert (limited.value.status_code, limited.value.code) == (429, 42910000)
    account = await in_thread(trading.get_account)
    assert account.cash == "100000"


async def test_decimal_prices_survive_alpaca_py_floats(trading: Trading) -> None:
    """alpaca-py sends floats; the venue reads their text so 0.1234 stays exact."""
    order = await in_thread(
        lambda: trading.submit_order(
            LimitOrderRequest(
                symbol="PENNY",
                qty=10,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=0.1234,
            )
        )
    )
    assert order.limit_price is not None
    assert Decimal(order.limit_price) == Decimal("0.1234")


async def test_selling_more_than_held_is_insufficient_qty(trading: Trading) -> None:
    """Selling past a long position is 403 40310000 naming what is available."""
    await in_thread(lambda: trading.submit_order(market(qty="2")))
    with pytest.raises(APIError) as refused:
        await in_thread(lambda: trading.submit_order(market(qty="5", side=OrderSide.SELL)))
    assert (refused.value.status_code, refused.value.code) == (403, 40310000)
    body = refused.value.response.json()
    assert (body["available"], body["existing_qty"]) == ("2", "2")
