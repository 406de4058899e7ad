"""A futures account: money is cash plus open P&L, and orders need margin (pure).

Nothing is paid for a contract: a fill moves no cash. Closing books the realized P&L
(points x contracts x the product's value per point) into the cash value, and open
positions count at their mark-to-market P&L. An order that opens or adds contracts needs
the product's initial margin per contract out of what the account has free (netLiq less
the initial margin of its positions and of its other opening orders); an order that only
closes is always allowed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from brokers.base import OrderType, Side
from brokers.sim.core.checks import FORBIDDEN
from brokers.sim.core.ledger import AccountFigures, Ledger, SimPosition
from brokers.sim.core.orders import VenueRejection, decimal_text, unprocessable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date

    from brokers.base import Instrument
    from brokers.sim.core.assets import SimAsset
    from brokers.sim.core.orders import OrderTicket, SimOrder

ZERO = Decimal(0)


@attrs.frozen
class FuturesFigures:
    """The futures account as Tradovate's cash balance snapshot reports it."""

    total_cash_value: Decimal  # the starting cash plus every realized P&L
    realized_pnl: Decimal  # realized since the trading day began
    open_pnl: Decimal  # the open positions at current prices
    net_liq: Decimal  # total_cash_value + open_pnl
    initial_margin: Decimal  # of the open positions
    maintenance_margin: Decimal
    total_cash_value_sod: Decimal  # at the start of the trading day (17:00 Chicago)
    net_liq_sod: Decimal
    week_realized_pnl: Decimal  # realized since the week's first trading day began


@attrs.define
class FuturesLedger(Ledger):
    """Books fills of futures contracts: realized P&L with each product's multiplier."""

    _instruments: dict[str, Instrument] = attrs.field(factory=dict)
    _cash_sod: Decimal = attrs.field(init=False, default=ZERO)
    _net_liq_sod: Decimal = attrs.field(init=False, default=ZERO)
    _week_realized: Decimal = ZERO
    _week: tuple[int, int] | None = None
    # Per symbol, the open contracts as (signed qty, entry price), oldest first.
    _lots: dict[str, list[tuple[Decimal, Decimal]]] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        # Before its first trading day starts, the account's day starts with its cash.
        self._cash_sod = self._net_liq_sod = self._cash

    def list_instrument(self, instrument: Instrument) -> None:
        self._instruments[instrument.symbol] = instrument

    def apply_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> Decimal:
        """Book one execution: it closes the oldest open contracts first (FIFO, as a
        futures account pairs fills), each at its own entry price, and opens the rest."""
        lots = self._lots.setdefault(symbol, [])
        remaining = qty * side.sign
        points = ZERO
        closed = False
        while remaining and lots and (lots[0][0] > 0) != (remaining > 0):
            lot_qty, lot_price = lots[0]
            direction = 1 if lot_qty > 0 else -1
            closing = min(abs(remaining), abs(lot_qty))
            points += closing * (price - lot_price) * direction
            closed = True
            remaining += closing * direction
            if closing == abs(lot_qty):
                lots.pop(0)
            else:
                lots[0] = (lot_qty - closing * direction, lot_price)
        if remaining:
            lots.append((remaining, price))
        gain = points * self._instruments[symbol].multiplier
        if closed:
            self._realized[symbol] = self._realized.get(symbol, ZERO) + gain
        self._cash += gain
        self._week_realized += gain
        position_qty = sum((lot_qty for lot_qty, _ in lots), ZERO)
        if position_qty == 0:
            self._positions.pop(symbol, None)
            self._lots.pop(symbol, None)
        else:
            # The average of the open contracts' entry prices (Tradovate's netPrice).
            average = sum((q * p for q, p in lots), ZERO) / position_qty
            self._positions[symbol] = SimPosition(symbol, position_qty, average)
        return position_qty

    def open_pnl(self, symbol: str, price: Decimal) -> Decimal:
        """Each open contract against its own entry price: exact, where the average of
        several entries is not (a third of a tick has no end in decimals)."""
        points = sum(((price - p) * q for q, p in self._lots.get(symbol, ())), ZERO)
        return points * self._instruments[symbol].multiplier

    def margins(self) -> tuple[Decimal, Decimal]:
        """Initial and maintenance margin of the open positions."""
        initial = maintenance = ZERO
        for position in self._positions.values():
            margin = self._instruments[position.symbol].margin
            assert margin is not None  # a futures ledger lists futures only
            initial += abs(position.qty) * margin.initial
            maintenance += abs(position.qty) * margin.maintenance
        return initial, maintenance

    def figures(self, prices: Mapping[str, Decimal], holds: Decimal) -> AccountFigures:
        """A position's market value is its open P&L (a contract costs nothing to hold), so
        ``equity`` is netLiq; ``buying_power`` is the margin free for opening orders."""
        long_pnl = short_pnl = ZERO
        for position in self._positions.values():
            pnl = self.open_pnl(position.symbol, prices[position.symbol])
            if position.qty > 0:
                long_pnl += pnl
            else:
                short_pnl += pnl
        net_liq = self._cash + long_pnl + short_pnl
        initial, _ = self.margins()
        return AccountFigures(
            cash=self._cash,
            long_market_value=long_pnl,
            short_market_value=short_pnl,
            buying_power=max(ZERO, net_liq - initial - holds),
        )

    def futures_figures(self, prices: Mapping[str, Decimal]) -> FuturesFigures:
        open_pnl = sum(
            (self.open_pnl(p.symbol, prices[p.symbol]) for p in self._positions.values()), ZERO
        )
        initial, maintenance = self.margins()
        return FuturesFigures(
            total_cash_value=self._cash,
            realized_pnl=self._cash - self._cash_sod,
            open_pnl=open_pnl,
            net_liq=self._cash + open_pnl,
            initial_margin=initial,
            maintenance_margin=maintenance,
            total_cash_value_sod=self._cash_sod,
            net_liq_sod=self._net_liq_sod,
            week_realized_pnl=self._week_realized,
        )

    def start_trading_day(self, trading_date: date, prices: Mapping[str, Decimal]) -> None:
        """Take the start-of-day values; a new week starts its realized P&L from zero."""
        figures = self.futures_figures(prices)
        self._cash_sod = figures.total_cash_value
        self._net_liq_sod = figures.net_liq
        week = trading_date.isocalendar()[:2]
        if self._week is not None and week != self._week:
            self._week_realized = ZERO
        self._week = (week[0], week[1])


@attrs.frozen
class MarginRules:
    """The admission rules of a futures account: tick grid and margin."""

    _instruments: Mapping[str, Instrument]

    def check_prices(self, ticket: OrderTicket, asset: SimAsset) -> None:
        """Limit and stop prices present where the type needs them, and on the tick grid."""
        if ticket.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and ticket.limit_price is None:
            raise unprocessable("limit_price is required")
        if ticket.type in (OrderType.STOP, OrderType.STOP_LIMIT) and ticket.stop_price is None:
            raise unprocessable("stop_price is required")
        instrument = self._instruments[asset.symbol]
        for name, price in (
            ("limit_price", ticket.limit_price),
            ("stop_price", ticket.stop_price),
            ("take_profit limit_price", ticket.take_profit_limit),
            ("stop_loss stop_price", ticket.stop_loss_stop),
            ("stop_loss limit_price", ticket.stop_loss_limit),
        ):
            if price is not None and not instrument.is_on_grid(price):
                raise VenueRejection(
                    422,
                    42210000,
                    f"invalid {name} {price}: {asset.symbol} trades in ticks of"
                    f" {decimal_text(instrument.tick_size)}",
                    reason="InvalidPrice",
                )

    def check_funds(
        self,
        ticket: OrderTicket,
        asset: SimAsset,
        qty: Decimal,
        price: Decimal,
        *,
        position_qty: Decimal,
        open_orders: Sequence[SimOrder],
        buying_power: Decimal,
    ) -> Decimal:
        """The initial margin the order's opening contracts need, which it then holds."""
        del price  # margin is per contract, whatever the price
        margin = self._instruments[asset.symbol].margin
        assert margin is not None
        opening = opening_contracts(ticket.side, qty, position_qty, open_orders)
        need = opening * margin.initial
        if need > buying_power:
            # Tradovate's reason for a margin refusal is unconfirmed.
            raise VenueRejection(
                403,
                FORBIDDEN,
                "insufficient margin",
                reason="UnknownReason",
                buying_power=decimal_text(buying_power),
                cost_basis=decimal_text(need),
            )
        return need


def opening_contracts(
    side: Side, qty: Decimal, position_qty: Decimal, open_orders: Sequence[SimOrder]
) -> Decimal:
    """How many of an order's contracts open or add, counting the other open orders on
    its side as if filled (two entries never share one margin); a flip opens its far side."""
    pending = sum((o.remaining_qty for o in open_orders if o.side is side), ZERO)
    base = position_qty + pending * side.sign
    after = base + qty * side.sign
    if base == 0 or (base > 0) == (after > 0):
        return max(ZERO, abs(after) - abs(base))
    return abs(after)
