"""Alpaca wire payloads <-> domain types, with payloads shaped like Alpaca's documented ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.alpaca import mapping, schemas
from brokers.base import (
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from tests.builders import request
from tests.unit.brokers.alpaca.payloads import order_payload, trade_update_payload


def decode_order(**overrides: Any) -> schemas.Order:
    return schemas.ORDER.decode(json.dumps(order_payload(**overrides)))


def body_of(req: OrderRequest) -> dict[str, Any]:
    return json.loads(mapping.order_body(req))  # type: ignore[no-any-return]


# --- requests ----------------------------------------------------------------------------------


def test_a_market_order_body_has_only_alpacas_fields_with_decimal_strings() -> None:
    """A plain market order sends the six fields Alpaca needs and no nulls."""
    assert body_of(request(qty="10")) == {
        "symbol": "AAPL",
        "qty": "10",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": "td-1-entry",
    }


def test_limit_and_stop_prices_travel_as_strings() -> None:
    """A stop-limit order carries both prices as exact decimal strings."""
    req = OrderRequest(
        client_order_id="c1",
        symbol="MSFT",
        side=Side.SELL,
        qty=Decimal("2.5"),
        order_type=OrderType.STOP_LIMIT,
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal("301.10"),
        stop_price=Decimal("301.25"),
    )
    body = body_of(req)
    assert (body["side"], body["type"], body["time_in_force"]) == ("sell", "stop_limit", "gtc")
    assert (body["qty"], body["limit_price"], body["stop_price"]) == ("2.5", "301.10", "301.25")


def test_both_exits_make_a_bracket() -> None:
    """Take-profit and stop-loss make order_class bracket with one leg object each."""
    req = OrderRequest(
        client_order_id="c2",
        symbol="AAPL",
        side=Side.BUY,
        qty=Decimal(5),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("100.00"),
        take_profit=Decimal("110.00"),
        stop_loss=Decimal("95.00"),
    )
    body = body_of(req)
    assert body["order_class"] == "bracket"
    assert body["take_profit"] == {"limit_price": "110.00"}
    assert body["stop_loss"] == {"stop_price": "95.00"}


def test_an_exit_pair_for_a_held_position_is_an_oco() -> None:
    """order_class "oco": a sell limit at the take-profit with the stop as its pair."""
    req = OrderRequest(
        client_order_id="c4",
        symbol="AAPL",
        side=Side.SELL,
        qty=Decimal(3),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("110.00"),
        take_profit=Decimal("110.00"),
        stop_loss=Decimal("95.00"),
        order_class="oco",
    )
    body = body_of(req)
    assert (body["order_class"], body["side"], body["type"]) == ("oco", "sell", "limit")
    assert body["take_profit"] == {"limit_price": "110.00"}
    assert body["stop_loss"] == {"stop_price": "95.00"}


@pytest.mark.parametrize(
    ("take_profit", "stop_loss", "present", "absent"),
    [
        (Decimal(110), None, "take_profit", "stop_loss"),
        (None, Decimal(95), "stop_loss", "take_profit"),
    ],
)
def test_one_exit_makes_an_oto_without_the_missing_leg(
    take_profit: Decimal | None, stop_loss: Decimal | None, present: str, absent: str
) -> None:
    """With a single exit the order class is oto and the absent leg is not sent."""
    req = OrderRequest(
        client_order_id="c3",
        symbol="AAPL",
        side=Side.BUY,
        qty=Decimal(1),
        take_profit=take_profit,
        stop_loss=stop_loss,
    )
    body = body_of(req)
    assert body["order_class"] == "oto"
    assert present in body
    assert absent not in body


def test_exponent_decimals_are_sent_in_plain_notation() -> None:
    """Decimal("1E+1") goes out as "10": Alpaca reads plain decimal strings."""
    req = OrderRequest(
        client_order_id="c4",
        symbol="AAPL",
        side=Side.BUY,
        qty=Decimal("1E+1"),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("1.5E-3"),
    )
    body = body_of(req)
    assert (body["qty"], body["limit_price"]) == ("10", "0.0015")


@given(
    qty=st.decimals(min_value=Decimal("1e-9"), max_value=Decimal("1e9"), places=9),
    price=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e6"), places=4),
)
def test_any_decimal_round_trips_exactly_through_the_body(qty: Decimal, price: Decimal) -> None:
    """Whatever the Decimal, the body's string parses back to the same value, without exponent."""
    req = OrderRequest(
        client_order_id="c5",
        symbol="AAPL",
        side=Side.BUY,
        qty=qty,
        order_type=OrderType.LIMIT,
        limit_price=price,
    )
    body = body_of(req)
    assert Decimal(body["qty"]) == qty
    assert Decimal(body["limit_price"]) == price
    assert "E" not in body["qty"] + body["limit_price"]


# --- orders ------------------------------------------------------------------------------------


def test_a_rest_order_becomes_a_venue_order() -> None:
    """Ids, side, quantities, type, time in force and times come across; null avg is None."""
    order = mapping.venue_order(decode_order())
    assert order.venue_order_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert order.client_order_id == "td-1-entry"
    assert (order.symbol, order.side, order.qty) == ("AAPL", Side.BUY, Decimal(10))
    assert (order.filled_qty, order.filled_avg_price) == (Decimal(0), None)
    assert (order.order_type, order.time_in_force) == (OrderType.MARKET, TimeInForce.DAY)
    assert order.submitted_at == datetime(2021, 3, 16, 18, 38, 1, 937734, tzinfo=UTC)
    assert order.legs == ()


def test_decimals_decode_from_floats_and_strings_alike() -> None:
    """alpaca-py style floats and Alpaca's strings give the same exact Decimals."""
    from_floats = schemas.ORDER.decode(
        json.dumps(order_payload(qty=10.0, filled_qty=3, filled_avg_price=179.08))
    )
    from_strings = decode_order(qty="10.0", filled_qty="3", filled_avg_price="179.08")
    assert mapping.venue_order(from_floats) == mapping.venue_order(from_strings)
    assert mapping.venue_order(from_floats).filled_avg_price == Decimal("179.08")


def test_timestamps_with_offsets_or_none_end_up_in_utc() -> None:
    """An offset is converted to UTC; a timestamp without one is taken as UTC."""
    order = mapping.venue_order(
        decode_order(
            submitted_at="2022-04-28T10:07:04.451420928-04:00", updated_at="2022-04-28T14:07:05"
        )
    )
    assert order.submitted_at == datetime(2022, 4, 28, 14, 7, 4, 451421, tzinfo=UTC)
    assert order.updated_at == datetime(2022, 4, 28, 14, 7, 5, tzinfo=UTC)
    assert order.submitted_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("wire", "domain"),
    [
        ("pending_new", OrderStatus.PENDING_NEW),
        ("pending_review", OrderStatus.PENDING_NEW),
        ("new", OrderStatus.NEW),
        ("accepted", OrderStatus.NEW),
        ("accepted_for_bidding", OrderStatus.NEW),
        ("partially_filled", OrderStatus.PARTIALLY_FILLED),
        ("filled", OrderStatus.FILLED),
        ("done_for_day", OrderStatus.DONE_FOR_DAY),
        ("canceled", OrderStatus.CANCELED),
        ("expired", OrderStatus.EXPIRED),
        ("replaced", OrderStatus.REPLACED),
        ("pending_cancel", OrderStatus.PENDING_CANCEL),
        ("pending_replace", OrderStatus.PENDING_REPLACE),
        ("rejected", OrderStatus.REJECTED),
        ("held", OrderStatus.HELD),
        ("suspended", OrderStatus.SUSPENDED),
    ],
)
def test_alpaca_statuses_map_to_their_domain_namesakes(wire: str, domain: OrderStatus) -> None:
    """Each Alpaca status has one domain status."""
    assert mapping.venue_order(decode_order(status=wire)).status is domain


@pytest.mark.parametrize(
    ("wire", "filled", "domain"),
    [
        ("stopped", "0", OrderStatus.NEW),
        ("stopped", "4", OrderStatus.PARTIALLY_FILLED),
        ("calculated", "10", OrderStatus.FILLED),
        ("calculated", "4", OrderStatus.DONE_FOR_DAY),
    ],
)
def test_stopped_is_still_working_and_calculated_is_done(
    wire: str, filled: str, domain: OrderStatus
) -> None:
    """stopped orders still work; calculated ones are filled or done for the day by their fills."""
    order = mapping.venue_order(decode_order(status=wire, qty="10", filled_qty=filled))
    assert order.status is domain


def test_an_unknown_status_is_unreadable_not_guessed() -> None:
    """A status tradingd has no term for raises instead of being guessed."""
    with pytest.raises(mapping.UnreadablePayload, match="teleported"):
        mapping.venue_order(decode_order(status="teleported"))


def test_hand_placed_order_kinds_stay_readable() -> None:
    """A trailing stop reads as a stop and an opening-auction order as a day order."""
    order = mapping.venue_order(
        decode_order(type="trailing_stop", time_in_force="opg", stop_price="95.5")
    )
    assert (order.order_type, order.time_in_force) == (OrderType.STOP, TimeInForce.DAY)
    assert order.stop_price == Decimal("95.5")


def test_a_notional_order_counts_what_filled() -> None:
    """An order sized in dollars has no qty: its filled quantity stands in for it."""
    order = mapping.venue_order(
        decode_order(qty=None, notional="500", filled_qty="2.7", status="filled")
    )
    assert order.qty == Decimal("2.7")


def test_bracket_legs_map_recursively() -> None:
    """A nested bracket keeps its legs, each a full VenueOrder with its own status."""
    take_profit = order_payload(
        id="tp-1",
        client_order_id="td-1-tp",
        side="sell",
        type="limit",
        limit_price="110",
        status="new",
    )
    stop_loss = order_payload(
        id="sl-1",
        client_order_id="td-1-sl",
        side="sell",
        type="stop",
        stop_price="95",
        status="held",
    )
    order = mapping.venue_order(
        decode_order(order_class="bracket", status="filled", legs=[take_profit, stop_loss])
    )
    assert [(leg.venue_order_id, leg.status) for leg in order.legs] == [
        ("tp-1", OrderStatus.NEW),
        ("sl-1", OrderStatus.HELD),
    ]
    assert order.legs[0].limit_price == Decimal(110)
    assert order.legs[1].side is Side.SELL


def test_unknown_fields_are_ignored_and_missing_required_ones_are_not() -> None:
    """Extra fields decode fine; an order without an id does not decode."""
    decode_order(some_future_field={"x": 1})
    payload = order_payload()
    del payload["id"]
    with pytest.raises(msgspec.ValidationError, match="id"):
        schemas.ORDER.decode(json.dumps(payload))


# --- positions, account, assets ------------------------------------------------------------------


def test_a_short_position_keeps_its_negative_quantity() -> None:
    """Alpaca signs short positions; the domain position keeps the sign."""
    wire = schemas.POSITIONS.decode(
        json.dumps(
            [
                {
                    "asset_id": "b28f4066-5c6d-479b-a2af-85dc1a8f16fb",
                    "symbol": "SPY",
                    "exchange": "ARCA",
                    "asset_class": "us_equity",
                    "avg_entry_price": "412.91",
                    "qty": "-2",
                    "qty_available": "-2",
                    "side": "short",
                    "market_value": "-723.1",
                    "cost_basis": "-825.82",
                    "unrealized_pl": "102.72",
                    "current_price": "361.55",
                }
            ]
        )
    )
    (position,) = [mapping.position(p) for p in wire]
    assert (position.symbol, position.qty) == ("SPY", Decimal(-2))
    assert (position.avg_entry_price, position.market_value) == (
        Decimal("412.91"),
        Decimal("-723.1"),
    )


def test_the_account_keeps_cash_buying_power_and_equity() -> None:
    """The account's money fields come across as Decimals."""
    wire = schemas.ACCOUNT.decode(
        b'{"id":"e6fe16f3-64a4-4921-8928-cadf02f92f98","account_number":"PA2YDC58PNN3",'
        b'"status":"ACTIVE","currency":"USD","cash":"100000","buying_power":"400000",'
        b'"equity":100000.5,"multiplier":"4","pattern_day_trader":false}'
    )
    account = mapping.account(wire)
    assert (account.cash, account.buying_power, account.equity) == (
        Decimal(100000),
        Decimal(400000),
        Decimal("100000.5"),
    )


def test_the_account_keeps_last_equity_the_previous_close() -> None:
    """``last_equity`` (the equity at the previous close) comes across; absent means None."""
    wire = schemas.ACCOUNT.decode(
        b'{"id":"a","status":"ACTIVE","cash":"1","buying_power":"2","equity":"3",'
        b'"last_equity":"99500.25"}'
    )
    assert mapping.account(wire).last_equity == Decimal("99500.25")
    bare = schemas.ACCOUNT.decode(
        b'{"id":"a","status":"ACTIVE","cash":"1","buying_power":"2","equity":"3"}'
    )
    assert mapping.account(bare).last_equity is None


def test_the_clock_reads_next_open_and_close_as_utc() -> None:
    """Alpaca's clock, sent with a New York offset, becomes timezone-aware UTC."""
    wire = schemas.CLOCK.decode(
        b'{"timestamp":"2026-11-23T10:05:00.1-05:00","is_open":true,'
        b'"next_open":"2026-11-24T09:30:00-05:00","next_close":"2026-11-23T16:00:00-05:00"}'
    )
    clock = mapping.market_clock(wire)
    assert clock.is_open
    assert clock.next_close == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    assert clock.next_open == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def test_an_asset_reads_its_class_key_and_trading_flags() -> None:
    """The asset's JSON ``class`` key and its flags and increments decode."""
    (wire,) = schemas.ASSETS.decode(
        b'[{"id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","class":"us_equity","exchange":"NASDAQ",'
        b'"symbol":"AAPL","name":"Apple Inc.","status":"active","tradable":true,'
        b'"marginable":true,"shortable":true,"easy_to_borrow":true,"fractionable":true,'
        b'"min_order_size":"0.0001","price_increment":"0.01"}]'
    )
    assert wire.asset_class == "us_equity"
    asset = mapping.asset(wire)
    assert (asset.symbol, asset.tradable, asset.shortable, asset.fractionable) == (
        "AAPL",
        True,
        True,
        True,
    )
    assert (asset.min_order_size, asset.price_increment) == (Decimal("0.0001"), Decimal("0.01"))


# --- stream events -------------------------------------------------------------------------------


def decode_event(message: dict[str, Any]) -> schemas.TradeUpdate:
    decoded = schemas.STREAM_MESSAGE.decode(json.dumps(message))
    assert isinstance(decoded, schemas.TradeUpdatesMessage)
    return decoded.data


def test_a_fill_event_carries_its_fill_and_position() -> None:
    """A fill event yields a Fill (execution id, qty, price, time) and the position after it."""
    order = order_payload(status="filled", filled_qty="10", filled_avg_price="179.08")
    event = decode_event(
        trade_update_payload(
            "fill",
            order,
            execution_id="7d5f9b38-dc07-4a1e-b1b6-6cb3b3bfa2b1",
            price="179.08",
            qty="10",
            position_qty="10",
        )
    )
    update = mapping.order_update(event)
    assert update.event is OrderEvent.FILL
    assert update.order.status is OrderStatus.FILLED
    assert update.fill is not None
    assert update.fill.execution_id == "7d5f9b38-dc07-4a1e-b1b6-6cb3b3bfa2b1"
    assert (update.fill.qty, update.fill.price) == (Decimal(10), Decimal("179.08"))
    assert update.fill.at == datetime(2021, 3, 16, 18, 38, 2, 22453, tzinfo=UTC)
    assert update.position_qty == Decimal(10)
    assert update.source == "stream"


def test_a_partial_fill_has_a_fill_and_a_new_event_has_none() -> None:
    """partial_fill carries its own fill; new carries none."""
    partial = mapping.order_update(
        decode_event(
            trade_update_payload(
                "partial_fill",
                order_payload(status="partially_filled", filled_qty="4"),
                execution_id="e-1",
                price=179.1,
                qty=4,
                position_qty=4,
            )
        )
    )
    assert partial.fill is not None
    assert (partial.event, partial.fill.qty, partial.fill.price) == (
        OrderEvent.PARTIAL_FILL,
        Decimal(4),
        Decimal("179.1"),
    )
    new = mapping.order_update(decode_event(trade_update_payload("new", order_payload())))
    assert (new.event, new.fill, new.position_qty) == (OrderEvent.NEW, None, None)


def test_a_fill_event_without_an_execution_id_has_no_fill() -> None:
    """Without an execution id no Fill is invented; filled_qty still tells what filled."""
    update = mapping.order_update(
        decode_event(
            trade_update_payload(
                "fill", order_payload(status="filled", filled_qty="10"), price="1", qty="10"
            )
        )
    )
    assert update.fill is None
    assert update.order.filled_qty == Decimal(10)


def test_an_unknown_event_is_unreadable() -> None:
    """An event name tradingd has no term for raises UnreadablePayload."""
    with pytest.raises(mapping.UnreadablePayload, match="trade_updates event"):
        mapping.order_update(decode_event(trade_update_payload("snapshot", order_payload())))


def test_list_query_timestamps_are_utc_with_z() -> None:
    """``after`` goes out as RFC 3339 in UTC with a Z suffix."""
    assert mapping.rfc3339(datetime(2026, 1, 5, 15, 0, 1, tzinfo=UTC)) == "2026-01-05T15:00:01Z"
