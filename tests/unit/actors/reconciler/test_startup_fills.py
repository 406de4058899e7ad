"""Fills the venue made while tradingd was down become journal fills at startup."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from actors.reconciler.core_startup_fills import (
    JournalOrder,
    JournalPosition,
    VenueProgress,
    missed_fills,
)
from actors.records import FillRecorded, IntentRecorded, OrderStateRecorded, PositionRecorded
from brokers.base import OrderStatus, Side
from tests.builders import T0, request, venue_order


def journal_order(
    cid: str, filled: str = "0", avg: str | None = None, side: Side = Side.BUY
) -> JournalOrder:
    return JournalOrder(cid, "AAPL", side, Decimal(filled), Decimal(avg) if avg else None)


def test_fills_of_a_partly_filled_order_made_while_down_are_recorded_at_their_exact_price() -> None:
    """Journal 4 @ 10, venue 10 @ 11: one fill of 6 @ 11.666…, the id a REST snapshot gets."""
    working = venue_order(request("td-a-entry", qty="12"), OrderStatus.PARTIALLY_FILLED, "10", "11")
    held = {"AAPL": JournalPosition(Decimal(4), Decimal(10), Decimal(0))}
    records = missed_fills(
        [journal_order("td-a-entry", "4", "10")], [VenueProgress.of_open_order(working)], held, T0
    )
    fill, state, position = records
    assert isinstance(fill, FillRecorded)
    assert (fill.qty, fill.execution_id) == (Decimal(6), "v-1:10")
    assert fill.price * 6 + Decimal(40) == Decimal(110)
    assert isinstance(state, OrderStateRecorded)
    assert (state.state, state.filled_qty, state.avg_fill_price) == (
        "partially_filled",
        Decimal(10),
        Decimal(11),
    )
    assert isinstance(position, PositionRecorded)
    assert (position.qty, position.avg_entry_price) == (Decimal(10), Decimal(11))


def test_an_order_found_final_by_its_lookup_gets_its_fill_but_no_second_state_record() -> None:
    """The lookup's record already says filled; only the fill and the position are added."""
    resolved = OrderStateRecorded(
        at=T0,
        client_order_id="td-s-entry",
        symbol="AAPL",
        state="filled",
        venue_order_id="v-9",
        filled_qty=Decimal(3),
        avg_fill_price=Decimal(50),
    )
    held = {"AAPL": JournalPosition(Decimal(5), Decimal(40), Decimal(7))}
    records = missed_fills(
        [journal_order("td-s-entry", side=Side.SELL)],
        [VenueProgress.of_resolved(resolved)],
        held,
        T0,
    )
    fill, position = records
    assert isinstance(fill, FillRecorded)
    assert (fill.side, fill.qty, fill.price) == (Side.SELL, Decimal(3), Decimal(50))
    assert isinstance(position, PositionRecorded)
    assert (position.qty, position.realized_pnl) == (Decimal(2), Decimal(37))


def test_nothing_is_recorded_when_the_journal_already_has_every_fill() -> None:
    """Same cumulative quantity on both sides, or an order the journal does not know: no records."""
    working = venue_order(request("td-a-entry"), OrderStatus.PARTIALLY_FILLED, "4", "10")
    stranger = venue_order(request("other"), OrderStatus.PARTIALLY_FILLED, "4", "10", "v-2")
    progress = [VenueProgress.of_open_order(working), VenueProgress.of_open_order(stranger)]
    assert missed_fills([journal_order("td-a-entry", "4", "10")], progress, {}, T0) == []


def test_a_symbol_flat_in_the_journal_opens_from_zero() -> None:
    """No journal position yet: the caught-up fill opens it."""
    filled = venue_order(request("td-n-entry", qty="2"), OrderStatus.FILLED, "2", "100")
    later = T0 + timedelta(seconds=1)
    records = missed_fills(
        [journal_order("td-n-entry")], [VenueProgress.of_open_order(filled)], {}, later
    )
    position = records[-1]
    assert isinstance(position, PositionRecorded)
    assert (position.qty, position.avg_entry_price, position.at) == (
        Decimal(2),
        Decimal(100),
        later,
    )


def test_an_order_the_journal_never_had_is_recorded_with_its_state_and_fills() -> None:
    """Sent just before a kill, intent never durable: its state and fills are recorded, and
    one canceled unfilled gets its state alone."""
    filled = venue_order(request("td-f-entry", qty="2"), OrderStatus.FILLED, "2", "30", "v-f")
    canceled = venue_order(request("td-c-entry", qty="2"), OrderStatus.CANCELED, venue_id="v-c")
    unknown = [journal_order("td-f-entry"), journal_order("td-c-entry")]
    progress = [VenueProgress.of_unknown(filled), VenueProgress.of_unknown(canceled)]
    records = missed_fills(unknown, progress, {}, T0)
    kinds = [(type(r).__name__, getattr(r, "client_order_id", None)) for r in records]
    assert kinds == [
        ("IntentRecorded", None),
        ("FillRecorded", "td-f-entry"),
        ("OrderStateRecorded", "td-f-entry"),
        ("IntentRecorded", None),
        ("OrderStateRecorded", "td-c-entry"),
        ("PositionRecorded", None),
    ]
    # Each row gets what a later startup needs to catch up its fills: side and quantity.
    intents = [r for r in records if isinstance(r, IntentRecorded)]
    assert [(i.request.client_order_id, i.request.side, i.request.qty) for i in intents] == [
        ("td-f-entry", Side.BUY, Decimal(2)),
        ("td-c-entry", Side.BUY, Decimal(2)),
    ]
    assert [i.leg for i in intents] == ["entry", "entry"]
    states = [r.state for r in records if isinstance(r, OrderStateRecorded)]
    assert states == ["filled", "canceled"]
