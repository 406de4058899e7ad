"""The matching core's trading hours: a core whose market is closed (the Globex daily break,
the weekend) refuses new orders and fills nothing until it opens again (pure).

A mixin of ``MatchingCore``, like ``lifecycle``. The equity core never closes this way: its
sessions only expire orders (``OrderLifecycle.close_session``).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from brokers.sim.core.margin import FuturesFigures, FuturesLedger
from brokers.sim.core.orders import VenueRejection

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from brokers.sim.core.ledger import Ledger
    from brokers.sim.core.orders import SimOrder


class TradingHours(abc.ABC):
    # Whether the market is closed: new orders are refused and nothing matches.
    _trading_closed: bool

    @abc.abstractmethod
    def orders(self) -> list[SimOrder]: ...

    @abc.abstractmethod
    def prices(self) -> dict[str, Decimal]: ...

    @abc.abstractmethod
    def _match(self, order_id: str, now: datetime) -> None: ...

    @abc.abstractmethod
    def close_session(self, now: datetime, *, done_for_day: bool = False) -> None: ...

    @abc.abstractmethod
    def _account_ledger(self) -> Ledger: ...

    @property
    def trading_closed(self) -> bool:
        return self._trading_closed

    def halt_trading(self, now: datetime) -> None:
        """The market closes: its ``day`` orders expire, GTC orders rest until it opens."""
        self.close_session(now)
        self._trading_closed = True

    def resume_trading(self, now: datetime, trading_date: date | None = None) -> None:
        """The market opens (for ``trading_date``: a new trading day takes its start-of-day
        values); resting orders that the prices of the break made marketable fill now."""
        self._trading_closed = False
        ledger = self._account_ledger()
        if trading_date is not None and isinstance(ledger, FuturesLedger):
            ledger.start_trading_day(trading_date, self.prices())
        for order in self.orders():
            self._match(order.id, now)

    def check_open(self) -> None:
        if self._trading_closed:
            # The failure reason Tradovate gives outside its hours is unconfirmed.
            raise VenueRejection(422, 42210000, "market is closed", reason="SessionClosed")

    def futures_figures(self) -> FuturesFigures:
        """The futures account's figures at current prices (a futures core only)."""
        ledger = self._account_ledger()
        if not isinstance(ledger, FuturesLedger):
            raise TypeError("an equity account has no futures figures")
        return ledger.futures_figures(self.prices())

    def open_pnl(self, symbol: str) -> Decimal:
        """The open P&L of the futures position in ``symbol`` at its current price."""
        ledger = self._account_ledger()
        if not isinstance(ledger, FuturesLedger):
            raise TypeError("an equity account has no futures positions")
        return ledger.open_pnl(symbol, self.prices()[symbol])
