"""Orders tradingd follows against the venue's, for the full reconciliation report. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from actors.ids import is_own_client_order_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from brokers.base import VenueOrder


class LiveOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order an executor still follows (not final in tradingd's view)."""

    client_order_id: str
    symbol: str
    state: str
    filled_qty: Decimal


class OrderDifference(msgspec.Struct, frozen=True, kw_only=True):
    client_order_id: str
    symbol: str
    tradingd_state: str | None  # None: tradingd does not follow it
    venue_status: str | None  # None: the venue has no record of it (in the last day)
    tradingd_filled: Decimal | None
    venue_filled: Decimal | None
    note: str


def compare_orders(
    live: Sequence[LiveOrder], venue_orders: Sequence[VenueOrder]
) -> list[OrderDifference]:
    """Every order on which tradingd and the venue disagree, by client id.

    ``venue_orders`` holds the venue's open orders and its recent ones: an order tradingd
    still follows and the venue lists as final means a final event never reached it.
    """
    venue = {o.client_order_id: o for o in venue_orders}
    ours = {o.client_order_id: o for o in live}
    differences = []
    for cid, order in sorted(ours.items()):
        theirs = venue.get(cid)
        if theirs is None:
            note = "tradingd follows it; the venue has no record of it"
        elif theirs.status.is_final:
            note = f"final at the venue ({theirs.status}); tradingd still follows it"
        elif theirs.filled_qty != order.filled_qty:
            note = "filled quantities differ"
        else:
            continue
        differences.append(
            OrderDifference(
                client_order_id=cid,
                symbol=order.symbol,
                tradingd_state=order.state,
                venue_status=theirs.status.value if theirs else None,
                tradingd_filled=order.filled_qty,
                venue_filled=theirs.filled_qty if theirs else None,
                note=note,
            )
        )
    for cid, theirs in sorted(venue.items()):
        if cid in ours or theirs.status.is_final:
            continue
        who = "tradingd" if is_own_client_order_id(cid) else "outside tradingd"
        differences.append(
            OrderDifference(
                client_order_id=cid,
                symbol=theirs.symbol,
                tradingd_state=None,
                venue_status=theirs.status.value,
                tradingd_filled=None,
                venue_filled=theirs.filled_qty,
                note=f"open at the venue (placed {who}); no executor follows it",
            )
        )
    return differences
