"""The last-price table: written by the price feed task alone, read by the actors.

Readers get a price only if it is fresh enough; a stale price is never used for a decision.
"""

from __future__ import annotations

from decimal import Decimal

import attrs


@attrs.frozen
class Quote:
    price: Decimal
    at: float  # trio time of the update


@attrs.define
class PriceBook:
    _last: dict[str, Quote] = attrs.field(factory=dict)

    def update(self, symbol: str, price: Decimal, now: float) -> None:
        """Only the price feed calls this."""
        self._last[symbol] = Quote(price, now)

    def last(self, symbol: str, now: float, max_age: float) -> Decimal | None:
        quote = self._last.get(symbol)
        if quote is None or now - quote.at > max_age:
            return None
        return quote.price

    def symbols(self) -> list[str]:
        return list(self._last)
