"""Closed round trips rebuilt from fills: averaging, partial exits, flips, exit reasons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.ids import client_order_id_for
from actors.position import ConfirmedPosition
from brokers.base import OrderType, Side
from daemon.trades import (
    Opening,
    OrderKind,
    RoundTrip,
    TradeFill,
    exit_reason,
    openings_from,
    round_trips,
)
from tests.builders import T0
from tests.strategies import fill_steps, prices, quantities

BUY, SELL = Side.BUY, Side.SELL
# Decimal rounds at 28 significant digits (an average entry price is a division), so sums
# grouped differently may differ in the last digit: far below a cent.
ROUNDING = Decimal("1e-15")


def fill(
    cid: str, side: Side, qty: str, price: str, minute: int, symbol: str = "AAPL"
) -> TradeFill:
    return TradeFill(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        at=T0 + timedelta(minutes=minute),
    )


def cid(signal_id: str, leg: str) -> str:
    return client_order_id_for(signal_id, leg)


def test_a_long_entry_and_close_is_one_trip() -> None:
    """Entry and exit averages, times, P&L and the close leg's reason."""
    trips = round_trips(
        [
            fill(cid("s1", "entry"), BUY, "10", "100", 0),
            fill(cid("s2", "close"), SELL, "10", "110.5", 5),
        ],
        {},
    )
    assert trips == [
        RoundTrip(
            symbol="AAPL",
            side="long",
            qty=Decimal(10),
            entry_avg=Decimal(100),
            exit_avg=Decimal("110.5"),
            opened_at=T0,
            closed_at=T0 + timedelta(minutes=5),
            realized_pnl=Decimal(105),
            exit_reason="close",
            exit_order=cid("s2", "close"),
        )
    ]


def test_scale_ins_are_averaged_and_partial_fills_of_one_exit_make_one_trip() -> None:
    """Two buys average to 105; an exit filled in two parts is still one trip."""
    exit_id = cid("s3", "entry")
    [trip] = round_trips(
        [
            fill(cid("s1", "entry"), BUY, "10", "100", 0),
            fill(cid("s2", "entry"), BUY, "10", "110", 1),
            fill(exit_id, SELL, "5", "120", 2),
            fill(exit_id, SELL, "15", "121", 3),
        ],
        {},
    )
    assert (trip.qty, trip.entry_avg, trip.realized_pnl) == (20, 105, 5 * 15 + 15 * 16)
    assert (trip.exit_avg, trip.exit_reason, trip.closed_at) == (
        Decimal("120.75"),
        "signal",
        T0 + timedelta(minutes=3),
    )


def test_two_partial_exits_of_one_entry_are_two_trips() -> None:
    """A take-profit for part, then a stop-loss for the rest, each at the entry's price."""
    tp, sl = cid("s1", "tp"), cid("s1", "sl")
    trips = round_trips(
        [
            fill(cid("s1", "entry"), BUY, "10", "100", 0),
            fill(tp, SELL, "4", "110", 1),
            fill(sl, SELL, "6", "95", 2),
        ],
        {},
    )
    assert [(t.exit_reason, t.qty, t.entry_avg, t.realized_pnl) for t in trips] == [
        ("tp", 4, 100, 40),
        ("sl", 6, 100, -30),
    ]
    assert {t.opened_at for t in trips} == {T0}


def test_a_fill_through_zero_closes_one_trip_and_opens_the_next() -> None:
    """Long 10, sell 15 (a target): a long trip of 10 closes, a short of 5 opens at 110."""
    trips = round_trips(
        [
            fill(cid("s1", "entry"), BUY, "10", "100", 0),
            fill(cid("s2", "target"), SELL, "15", "110", 1),
            fill(cid("s3", "close"), BUY, "5", "104", 2),
        ],
        {},
    )
    assert [(t.side, t.qty, t.entry_avg, t.exit_avg, t.realized_pnl) for t in trips] == [
        ("long", 10, 100, 110, 100),
        ("short", 5, 110, 104, 30),
    ]
    assert trips[1].opened_at == T0 + timedelta(minutes=1)


def test_a_partial_exit_of_an_open_position_is_listed_and_the_rest_stays_open() -> None:
    """Only the quantity taken off is a trip; the open remainder is not."""
    [trip] = round_trips(
        [
            fill(cid("s1", "entry"), SELL, "10", "50", 0),
            fill(cid("s2", "target"), BUY, "3", "45", 1),
        ],
        {},
    )
    assert (trip.side, trip.qty, trip.realized_pnl) == ("short", 3, 15)


def test_exits_of_bracket_legs_with_venue_ids_take_their_reason_from_the_order_type() -> None:
    """A limit exit is a take-profit, a stop exit a stop-loss, an unknown one says so."""
    kinds = {
        "venue-leg-1": OrderKind(order_type=OrderType.LIMIT),
        "venue-leg-2": OrderKind(order_type=OrderType.STOP),
    }
    trips = round_trips(
        [
            fill(cid("s1", "entry"), BUY, "3", "10", 0),
            fill("venue-leg-1", SELL, "1", "12", 1),
            fill("venue-leg-2", SELL, "1", "9", 2),
            fill("placed-elsewhere", SELL, "1", "10", 3),
        ],
        kinds,
    )
    assert [t.exit_reason for t in trips] == ["tp", "sl", "unknown"]


@pytest.mark.parametrize(
    ("client_order_id", "kind", "reason"),
    [
        (cid("a", "close"), None, "close"),
        (cid("a", "entry"), OrderKind(leg="entry", order_type=OrderType.LIMIT), "signal"),
        (cid("a", "target"), None, "signal"),
        (cid("a", "tp"), None, "tp"),
        (cid("a", "sl"), None, "sl"),
        (cid("a", "oco"), OrderKind(leg="oco", order_type=OrderType.STOP_LIMIT), "sl"),
        (cid("a", "oco"), OrderKind(leg="oco", order_type=OrderType.MARKET), "signal"),
        ("venue-id", OrderKind(order_type=OrderType.LIMIT), "tp"),
        ("venue-id", None, "unknown"),
    ],
)
def test_exit_reason_from_leg_then_order_type(
    client_order_id: str, kind: OrderKind | None, reason: str
) -> None:
    """The leg decides first, then the order type; our own ids default to a signal."""
    assert exit_reason(client_order_id, kind) == reason


def test_a_position_held_before_the_first_fill_closes_without_a_guessed_pnl() -> None:
    """Adopted 10 shares (price unknown), sold: a long trip, entry and P&L unknown."""
    fills = [fill(cid("s1", "close"), SELL, "10", "110", 1)]
    openings = openings_from({"AAPL": Decimal(0)}, fills)
    assert openings == {"AAPL": Opening(qty=Decimal(10))}
    [trip] = round_trips(fills, {}, openings)
    assert (trip.side, trip.qty, trip.entry_avg, trip.realized_pnl) == ("long", 10, None, None)
    assert (trip.exit_avg, trip.opened_at) == (110, None)


def test_an_opening_with_a_known_price_counts_its_pnl() -> None:
    """A known opening price is used like any entry."""
    [trip] = round_trips(
        [fill(cid("s1", "close"), BUY, "2", "90", 1)],
        {},
        {"AAPL": Opening(qty=Decimal(-2), avg_entry_price=Decimal(100), at=T0)},
    )
    assert (trip.side, trip.realized_pnl, trip.opened_at) == ("short", 20, T0)


@given(fill_steps)
def test_trips_pnl_adds_up_to_each_positions_realized_pnl(
    steps: list[tuple[str, Side, Decimal, Decimal]],
) -> None:
    """Whatever the fills, each symbol's trips sum to what the executor's position realized,
    and each trip's P&L is its average prices' difference times its quantity."""
    positions: dict[str, ConfirmedPosition] = {}
    fills = []
    for minute, (symbol, side, qty, price) in enumerate(steps):
        positions.setdefault(symbol, ConfirmedPosition()).apply_fill(side, qty, price)
        fills.append(
            TradeFill(
                client_order_id=cid(str(minute), "entry"),
                symbol=symbol,
                side=side,
                qty=qty,
                price=price,
                at=T0 + timedelta(minutes=minute),
            )
        )
    trips = round_trips(fills, {})
    for symbol, position in positions.items():
        mine = [t for t in trips if t.symbol == symbol]
        total = sum((t.realized_pnl or Decimal(0) for t in mine), Decimal(0))
        assert abs(total - position.realized_pnl) <= ROUNDING
    assert openings_from({s: p.qty for s, p in positions.items()}, fills) == {}
    for trip in trips:
        assert trip.entry_avg is not None
        assert trip.realized_pnl is not None
        direction = 1 if trip.side == "long" else -1
        expected = (trip.exit_avg - trip.entry_avg) * trip.qty * direction
        assert abs(trip.realized_pnl - expected) <= ROUNDING
        assert trip.qty > 0
        assert trip.opened_at is not None
        assert trip.opened_at <= trip.closed_at


@given(
    st.integers(min_value=-500, max_value=500).map(Decimal),
    prices,
    st.lists(st.tuples(st.sampled_from([BUY, SELL]), quantities, prices), max_size=30),
)
def test_a_position_held_before_the_fills_counts_like_the_executors(
    held: Decimal, held_at: Decimal, steps: list[tuple[Side, Decimal, Decimal]]
) -> None:
    """An opening with a known price (an executor started from the venue's position) gives
    the executor's realized P&L too; with an unknown price, no P&L is guessed until flat."""
    position = ConfirmedPosition(held, held_at if held else Decimal(0))
    fills = []
    for minute, (side, qty, price) in enumerate(steps):
        position.apply_fill(side, qty, price)
        fills.append(fill(cid(str(minute), "entry"), side, str(qty), str(price), minute))
    known = round_trips(fills, {}, {"AAPL": Opening(qty=held, avg_entry_price=held_at, at=T0)})
    total = sum((t.realized_pnl or Decimal(0) for t in known), Decimal(0))
    assert abs(total - position.realized_pnl) <= ROUNDING
    unknown = round_trips(fills, {}, openings_from({"AAPL": position.qty}, fills))
    assert [(t.qty, t.closed_at) for t in unknown] == [(t.qty, t.closed_at) for t in known]
    pnl_unknown = [t.realized_pnl is None for t in unknown]
    # Unknown only for the span that started with the opening (a prefix), then as known.
    assert pnl_unknown == sorted(pnl_unknown, reverse=True)
    assert all(
        u.realized_pnl == k.realized_pnl
        for u, k in zip(unknown, known, strict=True)
        if u.realized_pnl is not None
    )
