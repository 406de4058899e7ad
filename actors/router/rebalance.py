"""Rebalance planning: weights become per-symbol target quantities that trade only deltas.

The planning is pure. The router turns a ``rebalance`` signal into one ``target`` per symbol from this plan:
sells first (they free the buying power the buys need), legs too small to trade skipped
and reported, never a liquidate-and-rebuy round trip (incident report 003: a rebalance
that sold everything and bought it back paid the spread twice on the whole book).
"""

from __future__ import annotations

import hashlib
import logging
from decimal import ROUND_DOWN, Decimal, DecimalException
from typing import TYPE_CHECKING

import attrs
import trio

from actors.messages import Ack, Action, BadSignal, Signal, build_signal
from actors.records import JournalSink, SignalFinished
from actors.router.task import Arrival, Intake, record_then_ack
from actors.signal_bounds import DECIMAL_TRAP_CODE, decimal_failure, trapping_decimals
from brokers.base import utc_now

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger("tradingd.rebalance")

ZERO = Decimal(0)


@attrs.frozen
class Leg:
    symbol: str
    current: Decimal
    target: Decimal

    @property
    def delta(self) -> Decimal:
        return self.target - self.current


@attrs.frozen
class Skipped:
    symbol: str
    reason: str


@attrs.frozen
class RebalancePlan:
    sells: tuple[Leg, ...]  # send these first
    buys: tuple[Leg, ...]  # then these, once the sells are final
    skipped: tuple[Skipped, ...]

    @property
    def turnover(self) -> Decimal:
        """Shares traded: the sum of |delta| over the legs sent."""
        return sum((abs(leg.delta) for leg in (*self.sells, *self.buys)), ZERO)


def plan_rebalance(
    weights: Mapping[str, Decimal],
    equity: Decimal,
    prices: Mapping[str, Decimal],
    positions: Mapping[str, Decimal],
    *,
    increments: Mapping[str, Decimal] | None = None,
    min_notional: Decimal = Decimal(1),
) -> RebalancePlan:
    """Targets ``weight * equity / price`` (rounded down to the increment) per symbol.

    A symbol held but absent from ``weights`` is targeted to zero: the weights describe the
    whole book. A symbol without a price is skipped (never sized on a guess); so is a leg
    whose trade is worth less than ``min_notional``.
    """
    increments = increments or {}
    sells: list[Leg] = []
    buys: list[Leg] = []
    skipped: list[Skipped] = []
    for symbol in sorted(weights.keys() | {s for s, q in positions.items() if q}):
        try:
            with trapping_decimals():
                planned = _plan_symbol(
                    symbol,
                    positions.get(symbol, ZERO),
                    weights.get(symbol, ZERO),
                    equity,
                    prices.get(symbol),
                    increments.get(symbol, Decimal(1)),
                    min_notional,
                )
        except DecimalException as exc:
            # An equity, price or increment no sane leg comes from: skipped, and said so.
            planned = Skipped(symbol, f"{DECIMAL_TRAP_CODE}: {decimal_failure(exc)}")
        match planned:
            case Skipped():
                skipped.append(planned)
            case Leg() if planned.delta < 0:
                sells.append(planned)
            case Leg():
                buys.append(planned)
            case None:
                pass
    return RebalancePlan(tuple(sells), tuple(buys), tuple(skipped))


def _plan_symbol(
    symbol: str,
    current: Decimal,
    weight: Decimal,
    equity: Decimal,
    price: Decimal | None,
    step: Decimal,
    min_notional: Decimal,
) -> Leg | Skipped | None:
    """One symbol's leg, why it is skipped, or None when it already has its weight."""
    if weight == 0:
        target = ZERO
    elif price is None or price <= 0:
        return Skipped(symbol, "no price to size it")
    else:
        target = (weight * equity / price / step).to_integral_value(ROUND_DOWN) * step
    leg = Leg(symbol, current, target)
    if leg.delta == 0:
        return None
    if price is not None and abs(leg.delta) * price < min_notional and target != 0:
        return Skipped(symbol, f"delta {leg.delta} is below the minimum order")
    return leg


@attrs.frozen
class RebalanceBook:
    """What a rebalance reads, each from its owner; wired by the supervisor."""

    equity: Callable[[], Decimal | None]  # RiskGuard's last account read
    price: Callable[[str], Decimal | None]  # the PriceBook, fresh prices only
    positions: Callable[[], dict[str, Decimal]]  # the executors' confirmed positions
    increments: Callable[[], dict[str, Decimal]]  # the venue's trade increments
    wait_settled: Callable[[frozenset[str]], Awaitable[None]]  # those executors idle
    intake: Intake
    journal: JournalSink
    settle_timeout: float = 60.0
    # Returns once each of these symbols has had a price. A rebalance replayed at startup
    # waits on it (up to ``settle_timeout``): the price feed may not have spoken yet, and
    # an unpriced leg would be skipped.
    wait_priced: Callable[[frozenset[str]], Awaitable[None]] | None = None


def leg_signal_id(rebalance_id: str, symbol: str) -> str:
    """Each leg is a signal of its own, with an id derived from the rebalance's."""
    leg = f"{rebalance_id}:{symbol}"
    if len(leg) <= 128:
        return leg
    return f"rebalance-{hashlib.sha256(leg.encode()).hexdigest()[:40]}:{symbol}"[:128]


# The source a rebalance's legs are journaled with (each leg's id names its rebalance).
REBALANCE_SOURCE = "rebalance"


async def run_rebalance(book: RebalanceBook, signal: Signal, msg: Arrival | None) -> None:
    """Plan, ack, then send the sells, wait for them to settle, and send the buys.

    Without ``msg`` it is a replay at startup (accepted before a crash, its legs perhaps
    partly sent): no ack, and the plan starts from the positions as they are now, so the legs
    already sent (their ids spent, acked duplicate) are not counted twice.
    """
    assert signal.targets is not None
    wall = utc_now()
    equity = book.equity()
    if equity is None or equity <= 0:
        reason = "rebalance: no account equity yet"
        if msg is not None:
            ack = Ack(id=signal.id, status="rejected", reason=reason)
            await record_then_ack(book.journal, msg, ack, wall)
        else:
            log.error("rebalance %s, accepted before the restart: %s", signal.id, reason)
            await _finish(book, signal, f"not replayed: {reason}")
        return
    weights = {s.upper(): w for s, w in signal.targets.items()}
    if msg is None and book.wait_priced is not None:
        with trio.move_on_after(book.settle_timeout):
            await book.wait_priced(frozenset(s for s, w in weights.items() if w))
    positions = book.positions()
    symbols = weights.keys() | positions.keys()
    prices = {s: p for s in symbols if (p := book.price(s)) is not None}
    plan = plan_rebalance(weights, equity, prices, positions, increments=book.increments())
    if msg is not None:
        ack = Ack(id=signal.id, status="accepted", reason=_describe(plan))
        await record_then_ack(book.journal, msg, ack, wall)
    else:
        log.info("rebalance %s replayed: %s", signal.id, _describe(plan))
    await _send_legs(book, signal, plan.sells)
    with trio.move_on_after(book.settle_timeout) as waited:
        await book.wait_settled(frozenset(leg.symbol for leg in plan.sells))
    if waited.cancelled_caught:
        log.warning("rebalance %s: sells not settled in time; buys go out anyway", signal.id)
    await _send_legs(book, signal, plan.buys)
    # Every leg is a signal of its own now, durable and worked by its executor.
    await _finish(book, signal, "its legs are sent")


async def _finish(book: RebalanceBook, signal: Signal, reason: str) -> None:
    await book.journal.append(SignalFinished(at=utc_now(), signal_id=signal.id, reason=reason))


async def _send_legs(book: RebalanceBook, signal: Signal, legs: tuple[Leg, ...]) -> None:
    for leg in legs:
        leg_id = leg_signal_id(signal.id, leg.symbol)
        try:
            target = build_signal(
                id=leg_id,
                symbol=leg.symbol,
                action=Action.TARGET,
                target_qty=leg.target,
                strategy=signal.strategy,
            )
        except BadSignal as exc:
            ack = Ack(id=leg_id, status="rejected", reason=str(exc))
        else:
            ack = await book.intake.submit_signal(target, REBALANCE_SOURCE)
        if ack.status != "accepted":
            log.warning(
                "rebalance %s leg %s: %s (%s)", signal.id, leg.symbol, ack.status, ack.reason
            )


def _describe(plan: RebalancePlan) -> str:
    parts = [f"rebalance: {len(plan.sells)} sells then {len(plan.buys)} buys"]
    if plan.skipped:
        parts.append("skipped " + ", ".join(f"{s.symbol} ({s.reason})" for s in plan.skipped))
    return "; ".join(parts)
