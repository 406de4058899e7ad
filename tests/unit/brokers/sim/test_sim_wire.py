"""The paper venue's wire: request parsing, Alpaca-shaped JSON, order listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.alpaca.listing import OrderQuery
from brokers.sim.alpaca.requests import parse_order, parse_prices
from brokers.sim.alpaca.wire import clock_json, event_json, order_json, position_json, rfc3339
from brokers.sim.core.assets import SimAsset, is_valid_price
from brokers.sim.core.matching import MatchingCore
from brokers.sim.core.orders import OrderTicket, VenueRejection, decimal_text

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
D = Decimal


def test_order_body_reads_floats_and_strings_exactly() -> None:
    """Quantities and prices given as JSON floats or strings become exact Decimals."""
    ticket = parse_order(
        b'{"symbol":"aapl","qty":1.1,"side":"buy","type":"limit","time_in_force":"gtc",'
        b'"limit_price":"187.20","client_order_id":"c"}'
    )
    assert ticket == OrderTicket(
        symbol="AAPL",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=D("1.1"),
        limit_price=D("187.20"),
        client_order_id="c",
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"[1,2", 400, "request body format is invalid"),
        (b'{"symbol":"AAPL","qty":true}', 400, "request body format is invalid"),
        (
            b'{"qty":"1","side":"buy","type":"market","time_in_force":"day"}',
            422,
            "symbol is required",
        ),
        (
            b'{"symbol":"A","qty":"1","side":"buy","type":"market","time_in_force":"opg"}',
            422,
            "invalid time_in_force",
        ),
        (
            b'{"symbol":"A","qty":"1","side":"buy","type":"market","time_in_force":"day",'
            b'"trail_price":"1.5"}',
            422,
            "trailing stop orders are not supported",
        ),
    ],
)
def test_bad_order_bodies(body: bytes, status: int, message: str) -> None:
    """Unreadable bodies are 400; readable ones missing or misusing a field are 422."""
    with pytest.raises(VenueRejection) as info:
        parse_order(body)
    assert (info.value.status, info.value.message) == (status, message)


def test_prices_body() -> None:
    """/_sim/prices takes strings or numbers, symbols upper-cased."""
    assert parse_prices(b'{"aapl":"187.20","MSFT":401.5}') == {
        "AAPL": D("187.20"),
        "MSFT": D("401.5"),
    }


def test_decimal_text_and_times() -> None:
    """Decimals print plainly without exponents; times are RFC 3339 with Z."""
    assert [decimal_text(D(x)) for x in ("100", "1E+2", "0.50", "-0.0", "1.000000001")] == [
        "100",
        "100",
        "0.5",
        "0",
        "1.000000001",
    ]
    assert rfc3339(T0) == "2026-01-05T15:00:00Z"


def test_sub_penny_rule() -> None:
    """Two decimals from $1, four below."""
    assert [is_valid_price(D(x)) for x in ("1.01", "1.011", "0.9999", "0.99999", "0")] == [
        True,
        False,
        True,
        False,
        False,
    ]


def filled_core() -> MatchingCore:
    core = MatchingCore.create([SimAsset(symbol="AAPL")], {"AAPL": D("100")}, D(10000))
    ticket = OrderTicket(
        symbol="AAPL", side=Side.SELL, type=OrderType.MARKET, time_in_force=TimeInForce.DAY,
        qty=D(3), client_order_id="c1",
    )  # fmt: skip
    core.submit(ticket, T0)
    return core


def test_order_and_event_json_carry_alpaca_fields() -> None:
    """Orders carry every field alpaca-py requires; fill events carry price, qty, position_qty."""
    core = filled_core()
    new, fill = core.take_events()
    data = event_json(fill)["data"]
    assert (data["event"], data["price"], data["qty"], data["position_qty"]) == (
        "fill",
        "100",
        "3",
        "-3",
    )
    assert "price" not in event_json(new)["data"]
    order = order_json(fill.order)
    for field in ("id", "client_order_id", "created_at", "updated_at", "submitted_at"):
        assert order[field]
    assert (order["time_in_force"], order["status"], order["extended_hours"]) == (
        "day",
        "filled",
        False,
    )
    assert (order["type"], order["order_type"], order["order_class"]) == (
        "market",
        "market",
        "simple",
    )
    assert order["filled_at"] == "2026-01-05T15:00:00Z"


def test_short_position_json() -> None:
    """A short's qty, market value and cost basis are negative; a price fall is a gain."""
    core = filled_core()
    (position,) = core.positions()
    asset = core.asset("AAPL")
    assert asset is not None
    wire = position_json(position, asset, D("90"), D(0))
    assert (wire["side"], wire["qty"], wire["market_value"], wire["cost_basis"]) == (
        "short",
        "-3",
        "-270",
        "-300",
    )
    assert (wire["unrealized_pl"], wire["unrealized_plpc"]) == ("30", "0.1")


def test_clock_reports_the_next_close_after_now() -> None:
    """next_close is today's session end while before it, else tomorrow's."""
    assert clock_json(T0)["next_close"] == "2026-01-05T21:00:00Z"
    late = clock_json(T0 + timedelta(hours=7))
    assert late["next_close"] == "2026-01-06T21:00:00Z"


def test_order_query_selects_by_time_window() -> None:
    """after and until are exclusive bounds on submission time."""
    core = MatchingCore.create([SimAsset(symbol="AAPL")], {"AAPL": D("100")}, D(100000))
    for minute in range(3):
        ticket = OrderTicket(
            symbol="AAPL", side=Side.BUY, type=OrderType.MARKET, time_in_force=TimeInForce.DAY,
            qty=D(1), client_order_id=f"m{minute}",
        )  # fmt: skip
        core.submit(ticket, T0 + timedelta(minutes=minute))
    query = OrderQuery.from_params(
        {"status": "all", "after": "2026-01-05T15:00:00Z", "until": "2026-01-05T15:02:00+00:00"}
    )
    assert [o.client_order_id for o in query.select(core.orders())] == ["m1"]
    assert OrderQuery.from_params({"limit": "9999"}).limit == 500
