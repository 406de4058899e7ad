"""RiskGuard's decisions: the single owner of account-level risk state.

Every order is valued at its worst case before it leaves; the approval reserves that much
buying power under the order's client id, and fills, cancels and rejections shrink or release
the reservation. Concurrent orders across symbols therefore can never overspend: the check is
``cost <= buying_power - reserved`` against one ledger, decided in one task (incident 003).

A risk-reducing order needs no buying power and is never blocked by a limit meant for new
risk (rates, sizes, exposure, a halt), so a halt can always flatten; only a daily-loss latch
in ``halted`` mode stops it too. Pure: no I/O, and the time is always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import assert_never

import attrs

from actors.messages import Approved, Denied, RiskDecision
from actors.prices import PriceBook
from actors.risk_controls import (
    OrderFlow,
    Refusal,
    check_collar,
    check_order_size,
    check_qty,
)
from actors.risk_daily import DailyLoss
from actors.risk_exposure import ExposureBook
from actors.risk_limits import LatchMode, RiskLimits
from brokers.base import Account, Asset, OrderRequest, OrderStatus, OrderType, OrderUpdate, Side

ZERO = Decimal(0)


@attrs.define
class _Reservation:
    request: OrderRequest
    opening_qty: Decimal  # the part of the order that adds exposure
    unit_cost: Decimal
    filled: Decimal = ZERO
    # The venue has said it holds the order, so its own buying power already excludes it.
    at_venue: bool = False

    @property
    def remaining(self) -> Decimal:
        open_left = max(ZERO, self.opening_qty - self.filled)
        return open_left * self.unit_cost

    @property
    def priced(self) -> bool:
        """Valued at its own limit price, as the venue values its hold (a stop may fill
        above its stop price, so it is treated as a market order)."""
        return self.request.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)


@attrs.define
class RiskGuardCore:
    limits: RiskLimits
    prices: PriceBook
    assets: Mapping[str, Asset] = attrs.field(factory=dict)
    _buying_power: Decimal | None = None
    _equity: Decimal | None = None
    _account_at: float | None = None
    # Fills and venue acknowledgements applied: an account read begun before one of them
    # landed is stale on arrival.
    _venue_events: int = 0
    _reservations: dict[str, _Reservation] = attrs.field(factory=dict)
    _halted: bool = False
    # Set when the venue refused an order: the next account read must not wait.
    wants_refresh: bool = False
    _flow: OrderFlow = attrs.field(init=False)
    _exposure: ExposureBook = attrs.field(init=False)
    _daily: DailyLoss = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._flow = OrderFlow(self.limits)
        self._exposure = ExposureBook(self.limits, self.prices)
        self._daily = DailyLoss(self.limits)

    # --- state fed in -----------------------------------------------------------------

    def load_positions(self, positions: Mapping[str, Decimal]) -> None:
        self._exposure.load(positions)

    @property
    def venue_events(self) -> int:
        return self._venue_events

    def set_account(
        self, account: Account, now: float, wall: datetime, *, events_before: int | None = None
    ) -> LatchMode | None:
        """Take a venue snapshot, unless a fill or an acknowledgement landed while it was
        being read (then it is stale and is dropped); returns the daily-loss latch if this
        sets it."""
        if events_before is not None and events_before != self._venue_events:
            return None
        # The venue holds a resting limit order at its limit, as the reservation does: give
        # it back here or it would count twice. Market and stop orders may cost more than
        # the venue holds for them, so theirs is never given back (counted twice instead).
        held = sum(
            (r.remaining for r in self._reservations.values() if r.at_venue and r.priced),
            ZERO,
        )
        self._buying_power, self._equity, self._account_at = (
            account.buying_power + held,
            account.equity,
            now,
        )
        self.wants_refresh = False
        return self._daily.observe(account.equity, wall)

    def halt(self) -> None:
        self._halted = True

    def resume(self) -> None:
        self._halted = False
        self._daily.resume(self._equity)

    # --- views ------------------------------------------------------------------------

    @property
    def reserved(self) -> Decimal:
        return sum((r.remaining for r in self._reservations.values()), ZERO)

    @property
    def buying_power(self) -> Decimal | None:
        return self._buying_power

    @property
    def equity(self) -> Decimal | None:
        """The account's equity as last read from the venue (None before the first read)."""
        return self._equity

    @property
    def halted(self) -> bool:
        return self._halted

    @property
    def latched(self) -> LatchMode | None:
        return self._daily.latched

    @property
    def daily(self) -> DailyLoss:
        return self._daily

    def positions(self) -> dict[str, Decimal]:
        return self._exposure.positions()

    # --- the decision -----------------------------------------------------------------

    def decide(self, request: OrderRequest, position_qty: Decimal, now: float) -> RiskDecision:
        refusal = self._refusal(request, position_qty, now)
        cid = request.client_order_id
        if refusal is not None:
            return Denied(client_order_id=cid, code=refusal.code, detail=refusal.detail)
        reservation = self._reservations[cid]
        return Approved(client_order_id=cid, reserved=reservation.remaining)

    def _refusal(self, request: OrderRequest, position_qty: Decimal, now: float) -> Refusal | None:
        if self._daily.latched == "halted":
            return Refusal("daily_loss_halted", "the daily loss limit halted trading")
        refusal = check_qty(request.qty, self.assets.get(request.symbol))
        if refusal is not None:
            return refusal
        # What earlier approved orders would reduce is not there to reduce again.
        already = self._exposure.pending(request.symbol, request.side)
        opening = _opening_qty(request, position_qty, already)
        if opening == 0:
            self._reservations[request.client_order_id] = _Reservation(request, ZERO, ZERO)
            self._exposure.reserve(
                request.client_order_id, request.symbol, request.side, request.qty
            )
            return None
        if self._halted:
            return Refusal("halted", "trading is halted: only risk-reducing orders pass")
        if self._daily.latched == "reducing":
            return Refusal("daily_loss_reducing", "daily loss limit: only risk-reducing orders")
        refusal = self._check_entry(request, opening, now)
        if refusal is None:
            self._flow.record(request, now)
        return refusal

    def _check_entry(self, request: OrderRequest, opening: Decimal, now: float) -> Refusal | None:
        limits = self.limits
        if self._buying_power is None or self._equity is None or self._account_at is None:
            return Refusal("account_unknown", "no account snapshot yet")
        if now - self._account_at > limits.max_account_age:
            return Refusal("account_stale", f"account older than {limits.max_account_age:g}s")
        last = self.prices.last(request.symbol, now, limits.max_price_age)
        if last is None:
            return Refusal(
                "no_price", f"no price for {request.symbol} newer than {limits.max_price_age:g}s"
            )
        unit_cost = self._unit_cost(request, last)
        refusal = (
            check_order_size(request.qty, request.qty * unit_cost, limits)
            or check_collar(request, last, limits)
            or self._flow.check(request, now)
        )
        if refusal is not None:
            return refusal
        if limits.max_open_orders is not None and len(self._reservations) >= limits.max_open_orders:
            return Refusal("max_open_orders", f"{limits.max_open_orders} orders already open")
        refusal = self._exposure.check(
            request.symbol,
            request.side,
            request.qty,
            unit_cost,
            self._equity,
            now,
        )
        if refusal is not None:
            return refusal
        cost = opening * unit_cost
        available = self._buying_power - self.reserved
        if cost > available:
            return Refusal(
                "insufficient_buying_power", f"needs {cost:.2f}, available {available:.2f}"
            )
        self._reservations[request.client_order_id] = _Reservation(request, opening, unit_cost)
        self._exposure.reserve(request.client_order_id, request.symbol, request.side, request.qty)
        return None

    def _unit_cost(self, request: OrderRequest, last: Decimal) -> Decimal:
        match request.order_type:
            case OrderType.LIMIT | OrderType.STOP_LIMIT:
                assert request.limit_price is not None  # the signal's schema requires it
                return request.limit_price
            case OrderType.STOP:
                assert request.stop_price is not None
                return request.stop_price
            case OrderType.MARKET:
                return last * (1 + self.limits.market_slippage)
            case _:
                assert_never(request.order_type)

    # --- what happened to orders ------------------------------------------------------

    def on_update(self, update: OrderUpdate) -> None:
        """Fills shrink the reservation and move buying power; a final state releases it."""
        self._exposure.on_update(update)
        cid = update.order.client_order_id
        reservation = self._reservations.get(cid)
        if reservation is None:
            return
        if not reservation.at_venue:
            reservation.at_venue = True
            self._venue_events += 1
        filled_now = min(update.order.filled_qty, reservation.request.qty)
        if filled_now > reservation.filled and self._buying_power is not None:
            delta = filled_now - reservation.filled
            price = update.fill.price if update.fill else update.order.filled_avg_price
            if price is not None:
                opened = max(ZERO, min(delta, reservation.opening_qty - reservation.filled))
                closed = delta - opened
                # A limit order is charged at no less than its limit: a snapshot taken after
                # its fill but before this update had its hold given back at the limit.
                charge = max(price, reservation.unit_cost) if reservation.priced else price
                self._buying_power += closed * price - opened * charge
            reservation.filled = filled_now
            self._venue_events += 1
        if update.order.status.is_final:
            if update.order.status is OrderStatus.REJECTED and reservation.opening_qty > 0:
                self.wants_refresh = True
            del self._reservations[cid]

    def release(self, client_order_id: str) -> None:
        """The order ended without a venue event: refused at submit (possibly for buying
        power, so the account is read again at once) or never sent."""
        reservation = self._reservations.pop(client_order_id, None)
        self._exposure.release(client_order_id)
        if reservation is not None and reservation.opening_qty > 0:
            self.wants_refresh = True


def _opening_qty(
    request: OrderRequest, position_qty: Decimal, pending_same_side: Decimal
) -> Decimal:
    """How much of the order adds to exposure (a sell against a long reduces first, but
    only what pending sells have not already claimed)."""
    if request.side is Side.SELL:
        reducible = max(ZERO, position_qty - pending_same_side)
    else:
        reducible = max(ZERO, -position_qty - pending_same_side)
    return max(ZERO, request.qty - reducible)
