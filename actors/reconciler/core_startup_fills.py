"""Fills the venue made while the daemon was down, written into the journal at startup.

A kill -9 can land between a fill at the venue and its record here; the venue may also
fill a resting order while nothing runs. Startup learns each unfinished order's cumulative
``filled_qty`` from the venue (the open-order list, or a lookup by client id), so what the
journal lacks is the difference. It is recorded as one fill per order at the exact average
price that explains it, under the id ``<venue order id>:<cumulative qty>`` that a REST
snapshot fill gets anywhere else (``actors.order_state``): replaying it is a no-op. The
symbol's journal position then moves by those fills, so the journal agrees with the venue
again without a drift that was never one.

The same goes for orders of ours the journal never recorded: the intent's commit overlaps
the POST, so a kill -9 can leave an order at the venue whose intent never became durable.
Startup finds them among the venue's recent orders by client id and records them here,
fills and all, as if the journal had known them with nothing filled.

Pure: journal rows and venue answers in, records out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from actors.ids import leg_of
from actors.order_state import State, state_of
from actors.position import ConfirmedPosition
from actors.records import (
    FillRecorded,
    IntentRecorded,
    JournalRecord,
    OrderStateRecorded,
)
from brokers.base import OrderRequest, Side, VenueOrder, request_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

ZERO = Decimal(0)


@attrs.frozen
class JournalOrder:
    """An unfinished order as the journal last recorded it."""

    client_order_id: str
    symbol: str
    side: Side
    filled_qty: Decimal
    avg_fill_price: Decimal | None


@attrs.frozen
class JournalPosition:
    qty: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal


@attrs.frozen
class VenueProgress:
    """How far the venue says an order got: cumulative quantity and average price."""

    client_order_id: str
    venue_order_id: str | None
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    # The state to record with the fills (an order still working, or one the journal never
    # had); None when the state is recorded elsewhere (a final answer found by a lookup).
    state_to_record: str | None = None
    journal_lacks_it: bool = False
    # What the venue says was asked, for an order the journal lacks: its row gets the side
    # and quantity a later startup needs to catch up its fills in turn.
    request: OrderRequest | None = None

    @classmethod
    def of_open_order(cls, order: VenueOrder) -> VenueProgress:
        state = State.PARTIALLY_FILLED if order.filled_qty else State.ACCEPTED
        return cls(
            order.client_order_id,
            order.venue_order_id,
            order.filled_qty,
            order.filled_avg_price,
            state.value,
        )

    @classmethod
    def of_unknown(cls, order: VenueOrder) -> VenueProgress:
        """An order of ours the journal never recorded: the crash came before its intent
        was durable, after the venue had it."""
        return cls(
            order.client_order_id,
            order.venue_order_id,
            order.filled_qty,
            order.filled_avg_price,
            state_of(order.status).value,
            journal_lacks_it=True,
            request=request_of(order),
        )

    @classmethod
    def of_resolved(cls, record: OrderStateRecorded) -> VenueProgress:
        return cls(
            record.client_order_id, record.venue_order_id, record.filled_qty, record.avg_fill_price
        )


def missed_fills(
    journal_orders: Iterable[JournalOrder],
    venue: Iterable[VenueProgress],
    positions: Mapping[str, JournalPosition],
    at: datetime,
) -> list[JournalRecord]:
    """The fills (and the position and progress records they imply) the journal lacks."""
    ours = {o.client_order_id: o for o in journal_orders}
    records: list[JournalRecord] = []
    moved: dict[str, ConfirmedPosition] = {}
    for progress in venue:
        # Each order once, even if two startup reads both saw it.
        order = ours.pop(progress.client_order_id, None)
        if order is None:
            continue
        if progress.journal_lacks_it and progress.request is not None:
            # The signal stays unnamed until it is fed again (the executor's duplicate path
            # names it on this row then).
            leg = leg_of(order.client_order_id) or ""  # one of ours: its id names its leg
            records.append(IntentRecorded(at=at, signal_id="", leg=leg, request=progress.request))
        delta = progress.filled_qty - order.filled_qty
        if delta > 0 and progress.avg_fill_price is not None:
            old_cost = order.filled_qty * (order.avg_fill_price or ZERO)
            price = (progress.filled_qty * progress.avg_fill_price - old_cost) / delta
            records.append(
                FillRecorded(
                    at=at,
                    client_order_id=order.client_order_id,
                    symbol=order.symbol,
                    side=order.side,
                    execution_id=f"{progress.venue_order_id}:{progress.filled_qty}",
                    qty=delta,
                    price=price,
                )
            )
            _position(moved, positions, order.symbol).apply_fill(order.side, delta, price)
        elif not progress.journal_lacks_it:
            continue
        if progress.state_to_record is not None:
            records.append(
                OrderStateRecorded(
                    at=at,
                    client_order_id=order.client_order_id,
                    symbol=order.symbol,
                    state=progress.state_to_record,
                    venue_order_id=progress.venue_order_id,
                    filled_qty=progress.filled_qty,
                    avg_fill_price=progress.avg_fill_price,
                    reason="found at the venue at startup",
                )
            )
    for symbol, position in sorted(moved.items()):
        records.append(position.record(symbol, at))
    return records


def _position(
    moved: dict[str, ConfirmedPosition], positions: Mapping[str, JournalPosition], symbol: str
) -> ConfirmedPosition:
    """The symbol's journal position, as the fills recorded so far have moved it."""
    position = moved.get(symbol)
    if position is None:
        held = positions.get(symbol)
        position = (
            ConfirmedPosition(held.qty, held.avg_entry_price, held.realized_pnl)
            if held
            else ConfirmedPosition()
        )
        moved[symbol] = position
    return position
