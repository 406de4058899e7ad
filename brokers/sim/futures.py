"""The venue's futures side: Globex hours applied to the Tradovate front's core, and the
futures prices routed to it and printed on the front's market-data channel.

``SimVenue`` owns one and calls it from ``catch_up``, ``set_prices`` and ``reprint``; like
the venue, it runs in the venue's single trio thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from brokers.sim.alpaca.wire import order_json
from brokers.sim.core.contracts import is_on_tick, resolve_symbol
from brokers.sim.core.globex import GlobexChange, changes_between, is_open, next_change
from brokers.sim.core.globex import trading_date as globex_trading_date
from brokers.sim.core.orders import VenueRejection, decimal_text, unprocessable
from brokers.sim.core.tape import MarketItem, PricePrint

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import date, datetime
    from decimal import Decimal

    from brokers.sim.tradovate.front import TradovateFront


@attrs.define
class FuturesSide:
    front: TradovateFront
    # Venue time up to which Globex opens and closes have been applied.
    _hours_until: datetime
    trading_date: date
    _trade_ids: Iterator[int]
    _last_prints: dict[str, PricePrint] = attrs.field(factory=dict)

    @classmethod
    def start(cls, front: TradovateFront, now: datetime, trade_ids: Iterator[int]) -> FuturesSide:
        """The futures side at ``now``: closed if Globex is (a venue started in the break)."""
        if not is_open(now):
            front.core.halt_trading(now)
        side = cls(front, now, globex_trading_date(now), trade_ids)
        side.print(front.core.prices(), now)
        return side

    def catch_up(self, now: datetime) -> None:
        """Apply the Globex closes and opens venue time has passed, then publish."""
        changes = changes_between(self._hours_until, now)
        self._hours_until = max(self._hours_until, now)
        if not changes:
            return
        core = self.front.core
        try:
            for at, change in changes:
                match change:
                    case GlobexChange.CLOSE:
                        core.halt_trading(at)
                    case GlobexChange.OPEN:
                        day = globex_trading_date(at)
                        if day != self.trading_date:
                            self.trading_date = day
                            self.front.list_contracts(day, at)
                        core.resume_trading(at, day)
        finally:
            self.front.publish_events()

    def next_deadline(self) -> datetime:
        return next_change(self._hours_until)[0]

    def contract_name(self, symbol: str) -> str | None:
        """The listed contract ``symbol`` names (``MNQZ6``, or ``MNQ1!`` for the front)."""
        contract = resolve_symbol(symbol, self.trading_date)
        if contract is None or self.front.core.asset(contract.name) is None:
            return None
        return contract.name

    def checked_prices(self, prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """The prices by contract name, or VenueRejection: 422 for a symbol that names no
        listed contract, 400 for a price off its contract's tick grid."""
        named: dict[str, Decimal] = {}
        for symbol, price in prices.items():
            name = self.contract_name(symbol)
            if name is None:
                # As for an unknown equity symbol.
                raise unprocessable(f'could not find asset "{symbol}"')
            contract = resolve_symbol(name, self.trading_date)
            assert contract is not None
            tick = contract.product.tick_size
            if not is_on_tick(price, tick):
                raise VenueRejection(
                    400,
                    40010000,
                    f"price {price} of {name} is not on its tick grid of {decimal_text(tick)}",
                    reason="InvalidPrice",
                )
            named[name] = price
        return named

    def set_prices(self, prices: Mapping[str, Decimal], now: datetime) -> None:
        """Move contract prices (checked already) on the front's core and print them."""
        try:
            self.front.core.set_prices(prices, now)
        finally:
            self.front.publish_events()
        self.print(prices, now)

    def reprint(self, now: datetime) -> None:
        self.print(self.front.core.prices(), now)

    def state(self) -> dict[str, Any]:
        """The futures account for ``/_sim/state``: its figures, positions with their open
        P&L, orders (in the Alpaca account's shape), prices and hours."""
        core = self.front.core
        figures = core.futures_figures()
        prices = core.prices()
        positions = [
            {
                "symbol": p.symbol,
                "qty": decimal_text(p.qty),
                "avg_entry_price": str(p.avg_entry_price),
                "open_pnl": str(core.open_pnl(p.symbol)),
            }
            for p in core.positions()
        ]
        return {
            "account_id": self.front.account_id,
            "account_name": self.front.account_name,
            "account": {k: str(v) for k, v in attrs.asdict(figures).items()},
            "positions": positions,
            "orders": [order_json(o) for o in core.orders()],
            "submissions": core.submissions(),
            "realized_pl": {s: str(v) for s, v in core.realized_pl().items()},
            "prices": {s: str(p) for s, p in prices.items()},
            "trading_date": self.trading_date.isoformat(),
            "market_open": not core.trading_closed,
        }

    def current_prints(self) -> list[PricePrint]:
        return list(self._last_prints.values())

    def print(self, prices: Mapping[str, Decimal], now: datetime) -> None:
        prints = [PricePrint(next(self._trade_ids), s, p, now) for s, p in prices.items()]
        self._last_prints.update((p.symbol, p) for p in prints)
        self.front.market_data.publish(list[MarketItem](prints))
