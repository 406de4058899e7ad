"""Cash and positions of the venue's single account: average entry price and realized P&L."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brokers.base import Side

ZERO = Decimal(0)


@attrs.frozen
class SimPosition:
    """A position: ``qty`` signed (short is negative), ``avg_entry_price`` of the open part."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal

    def market_value(self, price: Decimal) -> Decimal:
        return self.qty * price


@attrs.frozen
class AccountFigures:
    """The account as numbers at one set of prices."""

    cash: Decimal
    long_market_value: Decimal
    short_market_value: Decimal  # negative, as Alpaca reports it
    buying_power: Decimal

    @property
    def equity(self) -> Decimal:
        return self.cash + self.long_market_value + self.short_market_value


@attrs.define
class Ledger:
    """Books fills into cash and positions. Only the matching core calls it."""

    _cash: Decimal
    _positions: dict[str, SimPosition] = attrs.field(factory=dict)
    _realized: dict[str, Decimal] = attrs.field(factory=dict)

    @property
    def cash(self) -> Decimal:
        return self._cash

    def position_qty(self, symbol: str) -> Decimal:
        position = self._positions.get(symbol)
        return position.qty if position is not None else ZERO

    def position(self, symbol: str) -> SimPosition | None:
        return self._positions.get(symbol)

    def positions(self) -> list[SimPosition]:
        return [self._positions[s] for s in sorted(self._positions)]

    def realized_pl(self) -> dict[str, Decimal]:
        """Realized P&L per symbol, kept after a position goes flat."""
        return dict(sorted(self._realized.items()))

    def apply_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> Decimal:
        """Book one execution; returns the position quantity after it."""
        signed = qty * side.sign
        self._cash -= signed * price
        old = self._positions.get(symbol)
        old_qty = old.qty if old is not None else ZERO
        new_qty = old_qty + signed
        if old is None or old_qty == 0 or (old_qty > 0) == (signed > 0):
            # Opening or adding: the entry price is the quantity-weighted average.
            total = abs(old_qty) * (old.avg_entry_price if old else ZERO) + qty * price
            avg = total / abs(new_qty)
        else:
            closing = min(qty, abs(old_qty))
            direction = 1 if old_qty > 0 else -1
            gain = closing * (price - old.avg_entry_price) * direction
            self._realized[symbol] = self._realized.get(symbol, ZERO) + gain
            # The part beyond the old position (a flip) opens at this fill's price.
            avg = old.avg_entry_price if abs(signed) <= abs(old_qty) else price
        if new_qty == 0:
            self._positions.pop(symbol, None)
        else:
            self._positions[symbol] = SimPosition(symbol, new_qty, avg)
        return new_qty

    def figures(self, prices: Mapping[str, Decimal], holds: Decimal) -> AccountFigures:
        """Account figures at ``prices``; ``holds`` is what open orders reserve."""
        long_mv = ZERO
        short_mv = ZERO
        for position in self._positions.values():
            value = position.market_value(prices[position.symbol])
            if value > 0:
                long_mv += value
            else:
                short_mv += value
        # A short reserves its value from buying power on top of the proceeds it added to
        # cash, so opening a short of value V lowers buying power by V.
        buying_power = max(ZERO, self._cash + 2 * short_mv - holds)
        return AccountFigures(
            cash=self._cash,
            long_market_value=long_mv,
            short_market_value=short_mv,
            buying_power=buying_power,
        )
