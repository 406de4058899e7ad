"""RiskGuard: the single owner of account-level risk state.

Every order is valued at its worst case before it leaves; the approval reserves that much
buying power under the order's client id, and fills, cancels and rejections shrink or release
the reservation. Concurrent orders across symbols therefore can never overspend: the check is
``cost <= buying_power - reserved`` against one ledger, decided in one task.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, assert_never

import attrs
import trio

from actors.messages import Approved, Denied, ReleaseReservation, RiskDecision, RiskRequest
from actors.prices import PriceBook
from brokers.base import Account, OrderRequest, OrderType, OrderUpdate, Side

log = logging.getLogger("tradingd.risk")

ZERO = Decimal(0)


@attrs.frozen
class RiskLimits:
    # A market order is valued at the last price plus this allowance for slippage.
    market_slippage: Decimal = Decimal("0.02")
    # A price older than this (seconds) is never used for a decision.
    max_price_age: float = 60.0


@attrs.define
class _Reservation:
    request: OrderRequest
    opening_qty: Decimal  # the part of the order that adds exposure
    unit_cost: Decimal
    filled: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        open_left = max(ZERO, self.opening_qty - self.filled)
        return open_left * self.unit_cost


@attrs.define
class RiskGuardCore:
    limits: RiskLimits
    prices: PriceBook
    _buying_power: Decimal | None = None
    _reservations: dict[str, _Reservation] = attrs.field(factory=dict)

    def set_account(self, account: Account) -> None:
        self._buying_power = account.buying_power

    @property
    def reserved(self) -> Decimal:
        return sum((r.remaining for r in self._reservations.values()), ZERO)

    @property
    def buying_power(self) -> Decimal | None:
        return self._buying_power

    def decide(self, request: OrderRequest, position_qty: Decimal, now: float) -> RiskDecision:
        cid = request.client_order_id
        opening = _opening_qty(request, position_qty)
        if opening == 0:
            # Purely risk-reducing: it frees buying power, never needs any.
            self._reservations[cid] = _Reservation(request, ZERO, ZERO)
            return Approved(client_order_id=cid, reserved=ZERO)
        if self._buying_power is None:
            return Denied(
                client_order_id=cid, code="account_unknown", detail="no account snapshot yet"
            )
        unit_cost = self._unit_cost(request, now)
        if unit_cost is None:
            return Denied(
                client_order_id=cid,
                code="no_price",
                detail=f"no price for {request.symbol} newer than {self.limits.max_price_age:g}s",
            )
        cost = opening * unit_cost
        available = self._buying_power - self.reserved
        if cost > available:
            return Denied(
                client_order_id=cid,
                code="insufficient_buying_power",
                detail=f"needs {cost:.2f}, available {available:.2f}",
            )
        self._reservations[cid] = _Reservation(request, opening, unit_cost)
        return Approved(client_order_id=cid, reserved=cost)

    def on_update(self, update: OrderUpdate) -> None:
        """Fills shrink the reservation and move buying power; a final state releases it."""
        reservation = self._reservations.get(update.order.client_order_id)
        if reservation is None:
            return
        filled_now = min(update.order.filled_qty, reservation.request.qty)
        if filled_now > reservation.filled and self._buying_power is not None:
            delta = filled_now - reservation.filled
            price = update.fill.price if update.fill else update.order.filled_avg_price
            if price is not None:
                opened = max(ZERO, min(delta, reservation.opening_qty - reservation.filled))
                closed = delta - opened
                self._buying_power += (closed - opened) * price
            reservation.filled = filled_now
        if update.order.status.is_final:
            del self._reservations[update.order.client_order_id]

    def release(self, client_order_id: str) -> None:
        self._reservations.pop(client_order_id, None)

    def _unit_cost(self, request: OrderRequest, now: float) -> Decimal | None:
        match request.order_type:
            case OrderType.LIMIT | OrderType.STOP_LIMIT:
                return request.limit_price
            case OrderType.STOP:
                return request.stop_price
            case OrderType.MARKET:
                last = self.prices.last(request.symbol, now, self.limits.max_price_age)
                return None if last is None else last * (1 + self.limits.market_slippage)
            case _:
                assert_never(request.order_type)


def _opening_qty(request: OrderRequest, position_qty: Decimal) -> Decimal:
    """How much of the order adds to exposure (a sell against a long reduces first)."""
    if request.side is Side.SELL:
        reducible = max(ZERO, position_qty)
    else:
        reducible = max(ZERO, -position_qty)
    return max(ZERO, request.qty - reducible)


RiskInput = RiskRequest | OrderUpdate | ReleaseReservation | Account


async def run_risk_guard(
    core: RiskGuardCore,
    inbox: trio.MemoryReceiveChannel[RiskInput],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """RiskGuard's loop: decisions are in-memory and immediate, so it never awaits I/O."""
    task_status.started()
    async with inbox:
        async for msg in inbox:
            match msg:
                case RiskRequest():
                    decision = core.decide(msg.request, msg.position_qty, trio.current_time())
                    if isinstance(decision, Denied):
                        log.info(
                            "denied %s: %s %s",
                            decision.client_order_id,
                            decision.code,
                            decision.detail,
                        )
                    reply: Any = msg.reply
                    await reply.send(decision)
                case OrderUpdate():
                    core.on_update(msg)
                case ReleaseReservation():
                    core.release(msg.client_order_id)
                case Account():
                    core.set_account(msg)
                case _:
                    assert_never(msg)
