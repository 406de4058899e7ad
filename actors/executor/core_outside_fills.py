"""Fills of orders placed outside tradingd (in the broker's app, say), taken into a running
executor's position.

The Reconciler finds them: a drift explained by outside orders (``actors.reconciler.core_drift``). It hands
each such order to its symbol's executor as ``AdoptOutsideFill``, so the executor holds what
the venue holds, as it would after a restart, and a correction that trades back to what
tradingd intended can go out at once. The executor counts each order by its cumulative
filled quantity, so an order handed over twice (or once more after it filled further)
moves the position only by what is new. Its fills are journaled under the outside order's
client id with an ``outside:`` execution id, so the journal's positions stay the venue's
across a restart and nothing reads them as tradingd's own trades.

The message is ``actors.executor.effects.AdoptOutsideFill``. Pure: the executor's core calls ``OutsideFills.adopt`` with the message and the wall time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from actors.executor.effects import Effect, RecordInJournal
from actors.ids import is_own_client_order_id
from actors.messages import Ack, AdoptOutsideFill
from actors.records import FillRecorded, JournalRecord

if TYPE_CHECKING:
    from datetime import datetime

    from actors.position import ConfirmedPosition
    from brokers.base import VenueOrder

ZERO = Decimal(0)
EXECUTION_PREFIX = "outside:"


def outside_order_key(order: VenueOrder) -> str:
    """The id an outside order is journaled under: its client id, or the venue's."""
    return order.client_order_id or order.venue_order_id


@attrs.define
class OutsideFills:
    """What one executor has counted of each outside order: (filled qty, cost)."""

    _counted: dict[str, tuple[Decimal, Decimal]] = attrs.field(factory=dict)

    def adopt(
        self,
        position: ConfirmedPosition,
        symbol: str,
        msg: AdoptOutsideFill,
        wall: datetime,
        followed: bool,
    ) -> list[Effect]:
        """The fill records (and the position after them) for what ``msg`` adds; ``followed``:
        the executor already follows this order (an outside order open at startup)."""
        order = msg.order
        key = outside_order_key(order)
        if followed or is_own_client_order_id(order.client_order_id) or order.symbol != symbol:
            return [_answer(msg, key, "duplicate", "not an outside order of this symbol")]
        qty, cost = self._counted.get(key, (ZERO, ZERO))
        delta = order.filled_qty - qty
        if delta <= 0 or order.filled_avg_price is None:
            return [_answer(msg, key, "duplicate", "nothing new filled")]
        total_cost = order.filled_qty * order.filled_avg_price
        price = (total_cost - cost) / delta
        self._counted[key] = (order.filled_qty, total_cost)
        position.apply_fill(order.side, delta, price)
        records: tuple[JournalRecord, ...] = (
            FillRecorded(
                at=wall,
                client_order_id=key,
                symbol=symbol,
                side=order.side,
                execution_id=f"{EXECUTION_PREFIX}{order.venue_order_id}:{order.filled_qty}",
                qty=delta,
                price=price,
            ),
            position.record(symbol, wall),
        )
        reason = f"outside {order.side} {delta} at {price} taken into the position"
        return [
            RecordInJournal(records, ack=(msg.reply, Ack(id=key, status="accepted", reason=reason)))
        ]


def _answer(msg: AdoptOutsideFill, key: str, status: Any, reason: str) -> RecordInJournal:
    # Through the journal effect: the answer comes after anything committed before it.
    return RecordInJournal((), ack=(msg.reply, Ack(id=key, status=status, reason=reason)))
