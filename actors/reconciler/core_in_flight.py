"""Fills in flight: the positions a drift check may see without anything being wrong.

The venue's positions are read at one instant; the executors' are the fills whose updates
have reached them. While an order works, the venue may have filled part of it that the
stream has not delivered yet (or delivered while the read was answered), so the venue's
quantity may lie anywhere its working orders can take ours. A check compares at a
consistent point by taking the executors' positions and working orders both before and
after the venue's read: a venue quantity inside the widest range they allow is explained
by fills in flight, and is drift only if one same order explains it on two checks in a
row (``DriftWatch``: a fill the stream lost), so fills in flight are never reported and
never a reason to page the day's orders over REST. What lies outside the range is judged
as before. Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import msgspec

from brokers.base import Side

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ZERO = Decimal(0)


class WorkingOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order an executor follows that may still fill: ``unfilled`` of ``side`` left."""

    client_order_id: str
    symbol: str
    side: Side
    unfilled: Decimal


@attrs.frozen
class InFlight:
    """The venue quantities a symbol's fills in flight can explain, and the orders whose
    fills they would be."""

    low: Decimal
    high: Decimal
    orders: frozenset[str] = frozenset()

    def explains(self, venue_qty: Decimal) -> bool:
        return self.low <= venue_qty <= self.high


def in_flight(
    before: Mapping[str, Decimal],
    after: Mapping[str, Decimal],
    working: Iterable[WorkingOrder],
) -> dict[str, InFlight]:
    """Each symbol's range from its positions before and after the venue's read and every
    order working at either moment (``working``: both lists; one order counted once, at
    the most it had left)."""
    unfilled: dict[str, WorkingOrder] = {}
    for order in working:
        seen = unfilled.get(order.client_order_id)
        if seen is None or order.unfilled > seen.unfilled:
            unfilled[order.client_order_id] = order
    buys: dict[str, Decimal] = {}
    sells: dict[str, Decimal] = {}
    ids: dict[str, set[str]] = {}
    for order in unfilled.values():
        side = buys if order.side is Side.BUY else sells
        side[order.symbol] = side.get(order.symbol, ZERO) + max(ZERO, order.unfilled)
        ids.setdefault(order.symbol, set()).add(order.client_order_id)
    ranges = {}
    for symbol in before.keys() | after.keys() | buys.keys() | sells.keys():
        first, last = before.get(symbol, ZERO), after.get(symbol, ZERO)
        ranges[symbol] = InFlight(
            low=min(first, last) - sells.get(symbol, ZERO),
            high=max(first, last) + buys.get(symbol, ZERO),
            orders=frozenset(ids.get(symbol, ())),
        )
    return ranges
