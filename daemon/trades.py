"""Closed round trips, rebuilt from the journal's fills: what ``tradingd trades`` shows.

A pure function of the fills (oldest first), the order each fill belongs to, and what was
held before the first journaled fill. A position is walked fill by fill with the same
average-cost arithmetic as the executor's ``ConfirmedPosition``, so the trips' P&L adds
up to the position's realized P&L:

- adding to a position (a scale-in) moves the average entry price;
- every order that reduces it closes one trip for the quantity it took off, at the average
  entry price of the moment: two partial exits of one entry are two trips;
- a fill through zero is split: its first part closes the old trip, the rest opens the
  next one at the fill's price.

A trip's exit reason comes from the order that closed it: its leg (``close``, ``tp``,
``sl``; an ``entry``, ``target``, ``flat`` or ``open`` leg is a ``signal``), else its order
type (a limit exit is a take-profit, a stop exit a stop-loss: for a bracket leg whose id the
venue chose, the type comes from the venue's answers in the journal's venue-call log), else
``unknown`` (an order the journal knows nothing of, e.g. one placed elsewhere).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import attrs
import msgspec

from actors.ids import is_own_client_order_id, leg_of
from brokers.base import OrderType, Side

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ZERO = Decimal(0)

ExitReason = Literal["tp", "sl", "close", "signal", "unknown"]

# Leg names as ``client_order_id_for`` appends them (and the longer names a venue-neutral
# caller might use); anything else falls back to the order's type.
_LEG_REASONS: dict[str, ExitReason] = {
    "close": "close",
    "flatten": "close",
    "entry": "signal",
    "target": "signal",
    "flat": "signal",  # the first leg of an order across zero: back to flat
    "open": "signal",  # its second leg, from flat
    "tp": "tp",
    "take_profit": "tp",
    "sl": "sl",
    "stop_loss": "sl",
}
_TYPE_REASONS: dict[OrderType, ExitReason] = {
    OrderType.LIMIT: "tp",
    OrderType.STOP: "sl",
    OrderType.STOP_LIMIT: "sl",
}


# The Structs below hold only scalars, so they can never be part of a reference cycle:
# ``gc=False`` keeps a history of 100k fills from feeding the cyclic collector, whose full
# passes would otherwise stall every thread (the trio loop included) for hundreds of ms.


class TradeFill(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One execution, as the journal keeps it."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    at: datetime


class OrderKind(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the journal knows of the order behind a fill (None: it does not know)."""

    leg: str | None = None
    order_type: OrderType | None = None


class Opening(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A position held before the first journaled fill (adopted from the venue at startup,
    or changed by trades made elsewhere). Its entry price is usually unknown."""

    qty: Decimal  # signed: short is negative
    avg_entry_price: Decimal | None = None
    at: datetime | None = None


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One closed trip. ``entry_avg`` and ``realized_pnl`` are None when part of the
    position came from an ``Opening`` whose price is unknown: never a guessed P&L."""

    symbol: str
    side: Literal["long", "short"]
    qty: Decimal
    entry_avg: Decimal | None
    exit_avg: Decimal
    opened_at: datetime | None
    closed_at: datetime
    realized_pnl: Decimal | None
    exit_reason: ExitReason
    exit_order: str


def exit_reason(client_order_id: str, kind: OrderKind | None) -> ExitReason:
    """Why the order that closed a trip was sent."""
    leg = kind.leg if kind is not None else None
    own = is_own_client_order_id(client_order_id)
    if leg is None:
        leg = leg_of(client_order_id)
    if leg is not None and leg in _LEG_REASONS:
        return _LEG_REASONS[leg]
    if kind is not None and kind.order_type in _TYPE_REASONS:
        return _TYPE_REASONS[kind.order_type]
    return "signal" if own else "unknown"


@attrs.define
class _Exit:
    """The part of one open span that one order closed, summed over its fills."""

    order: str
    closed_at: datetime
    qty: Decimal = ZERO
    proceeds: Decimal = ZERO  # sum of exit price x qty
    cost: Decimal | None = ZERO  # sum of average entry price x qty
    pnl: Decimal | None = ZERO


@attrs.define
class _Book:
    """One symbol's position while the fills are walked."""

    qty: Decimal = ZERO
    avg: Decimal | None = ZERO
    opened_at: datetime | None = None
    exits: dict[str, _Exit] = attrs.field(factory=dict)


def round_trips(
    fills: Iterable[TradeFill],
    kinds: Mapping[str, OrderKind],
    openings: Mapping[str, Opening] | None = None,
) -> list[RoundTrip]:
    """Closed round trips, ordered by the time they closed."""
    books: dict[str, _Book] = {
        symbol: _Book(qty=o.qty, avg=o.avg_entry_price, opened_at=o.at)
        for symbol, o in (openings or {}).items()
        if o.qty
    }
    trips: list[RoundTrip] = []
    for fill in fills:
        book = books.setdefault(fill.symbol, _Book())
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        if book.qty == 0 or (book.qty > 0) == (signed > 0):
            _add(book, fill, signed)
            continue
        closed = min(fill.qty, abs(book.qty))
        _reduce(book, fill, closed)
        remainder = fill.qty - closed
        if book.qty == 0:
            trips += _finish(fill.symbol, book, kinds, long=signed < 0)
            if remainder:
                # Flipped through zero: the rest of the fill opens the next trip.
                _add(book, fill, remainder if signed > 0 else -remainder)
    for symbol, book in books.items():
        # Partial exits of a position still open are closed trips too: the P&L is realized.
        trips += _finish(symbol, book, kinds, long=book.qty > 0, flat=False)
    return sorted(trips, key=lambda trip: trip.closed_at)


def _add(book: _Book, fill: TradeFill, signed: Decimal) -> None:
    if book.qty == 0:
        book.opened_at = fill.at
        book.avg = ZERO
    total = book.qty + signed
    if book.avg is not None:
        # The executor's formula, term for term, so the P&L matches its realized P&L.
        book.avg = (abs(book.qty) * book.avg + abs(signed) * fill.price) / abs(total)
    book.qty = total


def _reduce(book: _Book, fill: TradeFill, closed: Decimal) -> None:
    direction = Decimal(1) if book.qty > 0 else Decimal(-1)
    part = book.exits.get(fill.client_order_id)
    if part is None:
        part = book.exits[fill.client_order_id] = _Exit(fill.client_order_id, fill.at)
    part.qty += closed
    part.proceeds += fill.price * closed
    part.closed_at = fill.at
    if book.avg is None or part.cost is None or part.pnl is None:
        part.cost = part.pnl = None
    else:
        part.cost += book.avg * closed
        part.pnl += (fill.price - book.avg) * closed * direction
    book.qty -= closed * direction


def _finish(
    symbol: str, book: _Book, kinds: Mapping[str, OrderKind], *, long: bool, flat: bool = True
) -> list[RoundTrip]:
    """The span's exits as trips; once flat, the book starts afresh."""
    trips = [
        RoundTrip(
            symbol=symbol,
            side="long" if long else "short",
            qty=part.qty,
            entry_avg=None if part.cost is None else part.cost / part.qty,
            exit_avg=part.proceeds / part.qty,
            opened_at=book.opened_at,
            closed_at=part.closed_at,
            realized_pnl=part.pnl,
            exit_reason=exit_reason(part.order, kinds.get(part.order)),
            exit_order=part.order,
        )
        for part in book.exits.values()
    ]
    book.exits.clear()
    if flat:
        book.avg = ZERO
        book.opened_at = None
    return trips


def openings_from(
    positions: Mapping[str, Decimal], fills: Iterable[TradeFill]
) -> dict[str, Opening]:
    """What each symbol held before its first journaled fill: the confirmed position now
    less the net of the fills that built it."""
    net: dict[str, Decimal] = dict.fromkeys(positions, ZERO)
    for fill in fills:
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        net[fill.symbol] = net.get(fill.symbol, ZERO) + signed
    openings = {}
    for symbol, moved in net.items():
        held = positions.get(symbol, ZERO) - moved
        if held:
            openings[symbol] = Opening(qty=held, at=None)
    return openings
