"""Rebalance planning: weights become per-symbol target quantities that trade only deltas.

Pure. The router turns a ``rebalance`` signal into one ``target`` per symbol from this plan:
sells first (they free the buying power the buys need), legs too small to trade skipped
and reported, never a liquidate-and-rebuy round trip (incident report 003: a rebalance
that sold everything and bought it back paid the spread twice on the whole book).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

import attrs

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
        current = positions.get(symbol, ZERO)
        weight = weights.get(symbol, ZERO)
        price = prices.get(symbol)
        if weight == 0:
            target = ZERO
        elif price is None or price <= 0:
            skipped.append(Skipped(symbol, "no price to size it"))
            continue
        else:
            step = increments.get(symbol, Decimal(1))
            target = (weight * equity / price / step).to_integral_value(ROUND_DOWN) * step
        leg = Leg(symbol, current, target)
        if leg.delta == 0:
            continue
        if price is not None and abs(leg.delta) * price < min_notional and target != 0:
            skipped.append(Skipped(symbol, f"delta {leg.delta} is below the minimum order"))
            continue
        (sells if leg.delta < 0 else buys).append(leg)
    return RebalancePlan(tuple(sells), tuple(buys), tuple(skipped))
