"""The venue's tape: the trades it prints, and the minute bars built from them (pure).

Every price the venue sets is printed as one trade of ``TRADE_SIZE`` shares. A minute's bar
(open, high, low, close, volume, trade count, volume-weighted price) is complete once venue
time has passed the end of that minute; minutes without trades have no bar, as at Alpaca.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from brokers.sim.core.sessions import MINUTE, minute_start

if TYPE_CHECKING:
    from datetime import datetime

TRADE_SIZE = 100
VWAP_QUANTUM = Decimal("0.0001")


@attrs.frozen
class PricePrint:
    """One price the venue set, printed as trade ``trade_id``."""

    trade_id: int
    symbol: str
    price: Decimal
    at: datetime


@attrs.frozen
class MinuteBar:
    symbol: str
    start: datetime  # the minute the bar covers, as Alpaca stamps it
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trades: int
    vwap: Decimal


MarketItem = PricePrint | MinuteBar


@attrs.define
class _Building:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    trades: int = 1
    notional: Decimal = Decimal(0)

    def add(self, price: Decimal) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.trades += 1


@attrs.define
class BarBuilder:
    _building: dict[tuple[datetime, str], _Building] = attrs.field(factory=dict)

    def add(self, trade: PricePrint) -> None:
        key = (minute_start(trade.at), trade.symbol)
        bar = self._building.get(key)
        if bar is None:
            bar = self._building[key] = _Building(
                trade.price, trade.price, trade.price, trade.price
            )
        else:
            bar.add(trade.price)
        bar.notional += trade.price * TRADE_SIZE

    def take_complete(self, now: datetime) -> list[MinuteBar]:
        """The bars of every minute that ended by ``now``, by minute then symbol."""
        done = sorted(key for key in self._building if key[0] + MINUTE <= now)
        bars = []
        for start, symbol in done:
            bar = self._building.pop((start, symbol))
            volume = bar.trades * TRADE_SIZE
            vwap = (bar.notional / volume).quantize(VWAP_QUANTUM)
            bars.append(
                MinuteBar(
                    symbol, start, bar.open, bar.high, bar.low, bar.close, volume, bar.trades, vwap
                )
            )
        return bars
