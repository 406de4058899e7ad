"""An executor taking in the fills of orders placed outside tradingd: each order's fills
counted once, at the price that explains them, journaled as outside, answered after."""

from __future__ import annotations

from decimal import Decimal as D

import trio

from actors.executor.core_outside_fills import OutsideFills
from actors.executor.effects import RecordInJournal
from actors.messages import Ack, AdoptOutsideFill
from actors.position import ConfirmedPosition
from actors.records import FillRecorded, PositionRecorded
from brokers.base import OrderStatus, Side
from tests.builders import T0, request, venue_order


def adopt(
    outside: OutsideFills,
    position: ConfirmedPosition,
    filled: str,
    avg: str,
    *,
    cid: str = "manual-1",
    symbol: str = "MSFT",
    followed: bool = False,
) -> RecordInJournal:
    send, _ = trio.open_memory_channel[Ack](1)
    order = venue_order(
        request(cid, symbol="MSFT", side=Side.BUY, qty="5"), OrderStatus.FILLED, filled, avg
    )
    [effect] = outside.adopt(
        position, symbol, AdoptOutsideFill(order=order, reply=send), T0, followed
    )
    assert isinstance(effect, RecordInJournal)
    assert effect.ack is not None
    return effect


def test_an_outside_fill_moves_the_position_once_and_is_journaled_as_outside() -> None:
    outside, position = OutsideFills(), ConfirmedPosition(D(2), D(100))
    taken = adopt(outside, position, "3", "200")
    fill, after = taken.records
    assert isinstance(fill, FillRecorded)
    assert isinstance(after, PositionRecorded)
    assert (fill.client_order_id, fill.qty, fill.price) == ("manual-1", D(3), D(200))
    assert fill.execution_id == "outside:v-1:3"
    assert (position.qty, position.avg_entry_price) == (D(5), D(160))
    assert (after.qty, after.avg_entry_price) == (D(5), D(160))
    assert taken.ack is not None
    assert taken.ack[1].status == "accepted"
    again = adopt(outside, position, "3", "200")
    assert again.records == ()
    assert again.ack is not None
    assert again.ack[1].status == "duplicate"
    assert position.qty == D(5)


def test_further_fills_of_the_same_order_count_only_what_is_new() -> None:
    """3 at 200, then 5 in all at 204: the 2 new ones cost 210 each."""
    outside, position = OutsideFills(), ConfirmedPosition()
    adopt(outside, position, "3", "200")
    more = adopt(outside, position, "5", "204")
    fill = more.records[0]
    assert isinstance(fill, FillRecorded)
    assert (fill.qty, fill.price, fill.execution_id) == (D(2), D(210), "outside:v-1:5")
    assert position.qty == D(5)


def test_orders_it_follows_own_orders_and_other_symbols_are_not_taken_in() -> None:
    position = ConfirmedPosition()
    for taken in (
        adopt(OutsideFills(), position, "3", "200", followed=True),
        adopt(OutsideFills(), position, "3", "200", cid="td-abc-entry"),
        adopt(OutsideFills(), position, "3", "200", symbol="AAPL"),
    ):
        assert taken.records == ()
        assert taken.ack is not None
        assert taken.ack[1].status == "duplicate"
    assert position.qty == 0
