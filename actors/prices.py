"""The last-price table: written by the price feed task alone, read by the actors.

Readers get a price only if it is fresh enough; a stale price is never used for a decision.
RiskGuard also takes the set of symbols changed since it last looked, so it revalues only
those (its one reader of ``take_changed``). Each symbol's volatility estimate is kept up to
date here too, so sizing never computes it per decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import trio

from actors.risk.core_volatility import VolatilityEstimate

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal


@attrs.frozen
class Quote:
    price: Decimal
    at: float  # trio time of the update


@attrs.define
class PriceBook:
    _last: dict[str, Quote] = attrs.field(factory=dict)
    _first_price: dict[str, trio.Event] = attrs.field(factory=dict)
    _changed: set[str] = attrs.field(factory=set)
    _volatility: dict[str, VolatilityEstimate] = attrs.field(factory=dict)

    def update(self, symbol: str, price: Decimal, now: float) -> None:
        """Only the price feed calls this."""
        self._last[symbol] = Quote(price, now)
        estimate = self._volatility.get(symbol)
        if estimate is None:
            self._volatility[symbol] = VolatilityEstimate.first(price, now)
        else:
            estimate.observe(price, now)
        self._changed.add(symbol)
        waiting = self._first_price.pop(symbol, None)
        if waiting is not None:
            waiting.set()

    async def wait_for(self, symbol: str) -> None:
        """Return once ``symbol`` has had a price (for startup checks and benchmarks)."""
        if symbol not in self._last:
            await self._first_price.setdefault(symbol, trio.Event()).wait()

    def last(self, symbol: str, now: float, max_age: float) -> Decimal | None:
        quote = self._last.get(symbol)
        if quote is None or now - quote.at > max_age:
            return None
        return quote.price

    def volatility(self, symbol: str) -> Decimal | None:
        """The cached standard deviation of one-minute returns (None while warming up)."""
        estimate = self._volatility.get(symbol)
        return None if estimate is None else estimate.stdev

    @property
    def quotes(self) -> Mapping[str, Quote]:
        """Every latest quote, however old (read-only: for revaluing many at once)."""
        return self._last

    def quote(self, symbol: str) -> Quote | None:
        """The latest quote however old: the caller checks its age before using it."""
        return self._last.get(symbol)

    def take_changed(self) -> set[str]:
        """The symbols updated since the last call (bounded by the number of symbols)."""
        changed, self._changed = self._changed, set()
        return changed

    def symbols(self) -> list[str]:
        return list(self._last)
