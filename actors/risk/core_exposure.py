"""Exposure: signed positions from confirmed fills, and the caps an opening order must fit.

Positions are signed (a sell beyond the long is a short), so exposure is the absolute value
of each mark and can never go negative (incident 002). Approved orders not yet filled count
at their worst: a symbol's position may end anywhere between "every pending sell fills"
and "every pending buy fills", and each cap must hold at both ends, so concurrent orders
cannot pass a cap together. Sector caps
are a sector's share of the gross book after the order; the first position in an empty book
is allowed, since any position is all of nothing (incident 002: the sector cap that blocked
every first trade).

The book's value is kept as running sums, revalued only for symbols whose position or price
changed since the last decision, so a decision costs the same with 5 or 500 positions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

import attrs

from actors.risk.core_controls import Refusal
from brokers.base import OrderUpdate, Side

if TYPE_CHECKING:
    # Types only: actors.prices imports this package's volatility estimate.
    from collections.abc import Mapping

    from actors.prices import PriceBook
    from actors.risk.limits import RiskLimits

ZERO = Decimal(0)


class _Value(NamedTuple):
    """A symbol's value at both ends of its worst case, at its latest price."""

    high: Decimal  # every pending buy filled
    low: Decimal  # every pending sell filled
    gross: Decimal  # the larger magnitude of the two


def _value_at(high_qty: Decimal, low_qty: Decimal, price: Decimal) -> _Value:
    high, low = high_qty * price, low_qty * price
    return _Value(high, low, max(abs(high), abs(low)))


NOTHING = _Value(ZERO, ZERO, ZERO)


@attrs.define(slots=True)
class _Held:
    """A symbol with a position or a pending order, and the mark its value was taken at.

    Its value is linear in the price (``size * |price|``, ``high * price``, ``low *
    price``), so a new price moves every running sum by the quantity times the price's
    change: a few multiplications per changed price, nothing rebuilt."""

    high: Decimal  # qty if every pending buy fills
    low: Decimal  # qty if every pending sell fills
    size: Decimal  # max(|high|, |low|)
    sector: str | None
    # With no pending orders (high == low): the position's sign; else 0.
    sign: int = 0
    price: Decimal | None = None  # None: no price yet
    at: float = 0.0  # the mark's price time

    def value(self) -> _Value:
        if self.price is None:
            return NOTHING
        return _Value(self.high * self.price, self.low * self.price, self.size * abs(self.price))


@attrs.define
class ExposureBook:
    limits: RiskLimits
    prices: PriceBook
    _positions: dict[str, Decimal] = attrs.field(factory=dict)
    _filled_seen: dict[str, Decimal] = attrs.field(factory=dict)
    # Approved orders' unfilled qty by client id, and summed by symbol for each side.
    _pending: dict[str, tuple[str, Side, Decimal]] = attrs.field(factory=dict)
    _pending_qty: dict[tuple[str, Side], Decimal] = attrs.field(factory=dict)
    # Each symbol with a position or a pending order, at its mark. Gross, both net
    # extremes and per-sector gross are running sums of their values.
    _held: dict[str, _Held] = attrs.field(factory=dict)
    _unpriced: set[str] = attrs.field(factory=set)
    # No mark is older than this (a lower bound, made exact only when it falls behind the
    # age limit), so the staleness check is O(1) while every mark is fresh.
    _oldest_mark: float = float("inf")
    _gross: Decimal = ZERO
    _net_high: Decimal = ZERO
    _net_low: Decimal = ZERO
    _sector_gross: dict[str, Decimal] = attrs.field(factory=dict)

    def load(self, positions: Mapping[str, Decimal]) -> None:
        touched = set(self._positions) | set(positions)
        self._positions = {s: q for s, q in positions.items() if q}
        for symbol in touched:
            self._revalue(symbol)

    def set_limits(self, limits: RiskLimits) -> None:
        """New limits; the sector sums are rebuilt, since the sector map may have changed."""
        self.limits = limits
        sectors: dict[str, Decimal] = {}
        for symbol, held in self._held.items():
            held.sector = limits.sectors.get(symbol)
            if held.sector is not None:
                sectors[held.sector] = sectors.get(held.sector, ZERO) + held.value().gross
        self._sector_gross = sectors

    def position(self, symbol: str) -> Decimal:
        return self._positions.get(symbol, ZERO)

    def positions(self) -> dict[str, Decimal]:
        return dict(self._positions)

    def totals(self) -> tuple[Decimal, Decimal, Decimal, dict[str, Decimal]]:
        """Gross, net if every pending buy fills, net if every pending sell fills, and gross
        per sector, at the latest prices."""
        self.catch_up()
        return self._gross, self._net_high, self._net_low, dict(self._sector_gross)

    def pending(self, symbol: str, side: Side) -> Decimal:
        """Unfilled qty of approved ``side`` orders in ``symbol``."""
        return self._pending_qty.get((symbol, side), ZERO)

    def reserve(self, client_order_id: str, symbol: str, side: Side, qty: Decimal) -> None:
        self._pending[client_order_id] = (symbol, side, qty)
        self._shift(symbol, side, qty)

    def release(self, client_order_id: str) -> None:
        entry = self._pending.pop(client_order_id, None)
        if entry is not None:
            symbol, side, left = entry
            self._shift(symbol, side, -left)

    def on_update(self, update: OrderUpdate) -> None:
        """Apply the order's newly filled quantity once, however often an update repeats."""
        order = update.order
        cid = order.client_order_id
        delta = order.filled_qty - self._filled_seen.get(cid, ZERO)
        if delta > 0:
            signed = delta if order.side is Side.BUY else -delta
            qty = self._positions.get(order.symbol, ZERO) + signed
            if qty:
                self._positions[order.symbol] = qty
            else:
                self._positions.pop(order.symbol, None)
            self._filled_seen[cid] = order.filled_qty
            entry = self._pending.get(cid)
            if entry is not None:
                # The filled part moves from pending into the position.
                symbol, side, left = entry
                done = min(delta, left)
                self._pending[cid] = (symbol, side, left - done)
                self._shift(symbol, side, -done)
            self._revalue(order.symbol)
        if order.status.is_final:
            self._filled_seen.pop(cid, None)
            self.release(cid)

    def check(
        self, symbol: str, side: Side, qty: Decimal, price: Decimal, equity: Decimal, now: float
    ) -> Refusal | None:
        """Would every cap still hold, at both ends of the worst case, after this order?"""
        limits = self.limits
        position = self.position(symbol)
        high = position + self.pending(symbol, Side.BUY)
        low = position - self.pending(symbol, Side.SELL)
        if side is Side.BUY:
            high += qty
        else:
            low -= qty
        after = high if side is Side.BUY else low
        if limits.max_position_qty is not None and abs(after) > limits.max_position_qty:
            return Refusal(
                "max_position_qty", f"{symbol} position {after} exceeds {limits.max_position_qty}"
            )
        value = _value_at(high, low, price)
        if limits.max_position_notional is not None and value.gross > limits.max_position_notional:
            return Refusal(
                "max_position_notional",
                f"{symbol} position value {value.gross:.2f} exceeds {limits.max_position_notional}",
            )
        sector = limits.sectors.get(symbol)
        if limits.max_gross_exposure is None and limits.max_net_exposure is None and not sector:
            return None
        self.catch_up()
        stale = self._stale_mark(symbol, now)
        if stale is not None:
            return Refusal("no_price", f"no fresh price to value the {stale} position")
        held = self._held.get(symbol)
        before = NOTHING if held is None else held.value()
        gross = self._gross - before.gross + value.gross
        net = max(
            abs(self._net_high - before.high + value.high),
            abs(self._net_low - before.low + value.low),
        )
        if limits.max_gross_exposure is not None and gross > limits.max_gross_exposure * equity:
            return Refusal(
                "gross_exposure",
                f"gross {gross:.2f} exceeds {limits.max_gross_exposure} x equity {equity:.2f}",
            )
        if limits.max_net_exposure is not None and net > limits.max_net_exposure * equity:
            return Refusal(
                "net_exposure",
                f"net {net:.2f} exceeds {limits.max_net_exposure} x equity {equity:.2f}",
            )
        cap = None if sector is None else limits.sector_caps.get(sector)
        if sector is None or cap is None or gross - value.gross == 0:
            return None  # no cap, or the first position in an empty book
        in_sector = self._sector_gross.get(sector, ZERO) - before.gross + value.gross
        if in_sector > cap * gross:
            return Refusal(
                "sector_cap",
                f"sector {sector} would be {in_sector / gross:.1%} of the book, cap {cap:%}",
            )
        return None

    # --- the running valuation --------------------------------------------------------

    def _shift(self, symbol: str, side: Side, qty: Decimal) -> None:
        total = self.pending(symbol, side) + qty
        if total:
            self._pending_qty[(symbol, side)] = total
        else:
            self._pending_qty.pop((symbol, side), None)
        self._revalue(symbol)

    def catch_up(self) -> None:
        """Move every running sum by each held symbol's price change since its mark."""
        changed = self.prices.take_changed()
        if not changed:
            return
        held_by_symbol, quotes, sectors = self._held, self.prices.quotes, self._sector_gross
        gross = high = low = ZERO
        for symbol in changed:
            held = held_by_symbol.get(symbol)
            if held is None:
                continue
            quote = quotes[symbol]
            new, old = quote.price, held.price
            held.at = quote.at
            if old is None or new <= ZERO:
                # No usable mark before, or no usable price now: value it afresh.
                self._swap(held, symbol, new, quote.at)
                continue
            step = new - old
            if not step:
                continue
            held.price = new
            if held.sign:
                # No pending orders: one multiplication moves all three sums.
                moved = held.high * step
                high += moved
                low += moved
                moved = moved if held.sign > 0 else -moved
            else:
                moved = held.size * step
                high += held.high * step
                low += held.low * step
            gross += moved
            if held.sector is not None:
                sectors[held.sector] = sectors.get(held.sector, ZERO) + moved
        self._gross += gross
        self._net_high += high
        self._net_low += low

    def _stale_mark(self, symbol: str, now: float) -> str | None:
        """A held symbol (other than ``symbol``) whose latest price is missing or too old."""
        for other in self._unpriced:
            if other != symbol:
                return other
        oldest = now - self.limits.max_price_age
        if self._oldest_mark >= oldest:
            return None
        marks = [(held.at, s) for s, held in self._held.items() if held.price is not None]
        self._oldest_mark = min(marks)[0] if marks else float("inf")
        for at, other in marks:
            if other != symbol and at < oldest:
                return other
        return None

    def _revalue(self, symbol: str) -> None:
        """Revalue after the symbol's position or pending orders changed."""
        position = self.position(symbol)
        high = position + self.pending(symbol, Side.BUY)
        low = position - self.pending(symbol, Side.SELL)
        held = self._held.get(symbol)
        if held is not None:
            self._add(held, -1)
        self._unpriced.discard(symbol)
        if not (high or low):
            self._held.pop(symbol, None)
            return
        if held is None:
            held = self._held[symbol] = _Held(
                high, low, max(abs(high), abs(low)), self.limits.sectors.get(symbol)
            )
        else:
            held.high, held.low, held.size = high, low, max(abs(high), abs(low))
        held.sign = 0 if high != low else (1 if high > 0 else -1)
        quote = self.prices.quote(symbol)
        held.price = None  # its share was taken out above
        if quote is None:
            self._unpriced.add(symbol)
        else:
            self._swap(held, symbol, quote.price, quote.at)

    def _swap(self, held: _Held, symbol: str, price: Decimal | None, at: float) -> None:
        """Mark ``held`` at a new price, taking its share of every running sum along. A
        price at or below zero is no mark: the symbol counts as unpriced."""
        self._add(held, -1)
        if price is None or price <= ZERO:
            held.price = None
            self._unpriced.add(symbol)
            return
        held.price, held.at = price, at
        self._unpriced.discard(symbol)
        self._oldest_mark = min(self._oldest_mark, at)
        self._add(held, 1)

    def _add(self, held: _Held, sign: int) -> None:
        value = held.value()
        if value is NOTHING:
            return
        self._gross += sign * value.gross
        self._net_high += sign * value.high
        self._net_low += sign * value.low
        if held.sector is not None:
            self._sector_gross[held.sector] = (
                self._sector_gross.get(held.sector, ZERO) + sign * value.gross
            )
