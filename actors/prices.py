"""The last-price table: written by the price feed task alone, read by the actors.

Readers get a price only if it is fresh enough; a stale price is never used for a decision.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import trio


@attrs.frozen
class Quote:
    price: Decimal
    at: float  # trio time of the update


@attrs.define
class PriceBook:
    _last: dict[str, Quote] = attrs.field(factory=dict)
    _first_price: dict[str, trio.Event] = attrs.field(factory=dict)

    def update(self, symbol: str, price: Decimal, now: float) -> None:
        """Only the price feed calls this."""
        self._last[symbol] = Quote(price, now)
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

    def symbols(self) -> list[str]:
        return list(self._last)
