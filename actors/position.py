"""A symbol's confirmed position, changed only by broker-confirmed fills."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from actors.records import PositionRecorded
from brokers.base import Side

if TYPE_CHECKING:
    from datetime import datetime

ZERO = Decimal(0)


@attrs.define
class ConfirmedPosition:
    """Signed quantity (short is negative), average entry price and realized P&L."""

    qty: Decimal = ZERO
    avg_entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def record(self, symbol: str, at: datetime) -> PositionRecorded:
        """The journal record of this position as it stands."""
        return PositionRecorded(
            at=at,
            symbol=symbol,
            qty=self.qty,
            avg_entry_price=self.avg_entry_price,
            realized_pnl=self.realized_pnl,
        )

    def apply_fill(self, side: Side, qty: Decimal, price: Decimal) -> None:
        signed = qty if side is Side.BUY else -qty
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            # Opening or adding: the average moves.
            total = self.qty + signed
            self.avg_entry_price = (abs(self.qty) * self.avg_entry_price + qty * price) / abs(total)
            self.qty = total
            return
        # Reducing, closing or flipping: P&L is realized on the closed part.
        closed = min(qty, abs(self.qty))
        direction = Decimal(1) if self.qty > 0 else Decimal(-1)
        self.realized_pnl += (price - self.avg_entry_price) * closed * direction
        self.qty += signed
        if self.qty == 0:
            self.avg_entry_price = ZERO
        elif (self.qty > 0) != (direction > 0):
            # Flipped through zero: the remainder opened at this fill's price.
            self.avg_entry_price = price

    def close_order(self) -> tuple[Side, Decimal] | None:
        """The side and size that flatten this position; None when already flat."""
        if self.qty == 0:
            return None
        return (Side.SELL, self.qty) if self.qty > 0 else (Side.BUY, -self.qty)
