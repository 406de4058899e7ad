"""How many shares a buy or sell without ``qty`` trades: the one sizing function.

RiskGuard calls it while deciding, and the quantity it returns is both the one every limit
is checked against and the one sent (incident 000: validation sized one way, execution
another). Rounding is always down to what the venue accepts; a size that rounds to nothing,
or below the venue's minimum, is refused with a stable code, never bumped up to one share
(incident 000's "at least 1 share" fix bought more than the policy allowed). Pure.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from actors.risk.core_controls import Refusal

if TYPE_CHECKING:
    # Types only: actors.prices imports this package's volatility estimate.
    from collections.abc import Mapping

    from actors.prices import PriceBook
    from actors.risk.limits import RiskLimits, SizingPolicy
    from brokers.base import Asset, OrderRequest

# Alpaca accepts fractional quantities to nine decimals.
FINEST_FRACTION = Decimal("1E-9")


def trade_step(asset: Asset | None) -> Decimal:
    """The quantity increment the venue accepts: whole shares unless it trades fractions."""
    if asset is None or not asset.fractionable:
        return Decimal(1)
    step = asset.min_trade_increment
    return step if step is not None and step > 0 else FINEST_FRACTION


def size_order(
    policy: SizingPolicy,
    *,
    price: Decimal,
    equity: Decimal,
    asset: Asset | None,
    confidence: float | None,
    volatility: Decimal | None,
) -> Decimal | Refusal:
    """The order's quantity under ``policy``, or why it cannot have one."""
    if not price.is_finite() or price <= 0:
        return Refusal("bad_size", f"cannot size from price {price}")
    match policy.method:
        case "notional":
            amount = policy.notional
        case "equity_fraction":
            if not equity.is_finite() or equity <= 0:
                return Refusal("bad_size", f"cannot size from equity {equity}")
            amount = equity * policy.equity_fraction
    if policy.scale_by_confidence and confidence is not None:
        # Shortest repr of the float: 0.3 scales by exactly 0.3.
        amount *= Decimal(repr(confidence))
    target = policy.target_volatility
    if target is not None:
        if volatility is None:
            return Refusal("no_volatility", "no volatility estimate yet to size by")
        if volatility > target:
            amount = amount * target / volatility
    step = trade_step(asset)
    qty = (amount / price / step).to_integral_value(rounding=ROUND_FLOOR) * step
    if not qty.is_finite() or qty <= 0:
        return Refusal(
            "size_rounds_to_zero", f"{amount:.2f} at {price} is less than one step of {step}"
        )
    if asset is not None and asset.min_order_size is not None and qty < asset.min_order_size:
        return Refusal(
            "size_below_minimum", f"sized {qty}, below the minimum of {asset.min_order_size}"
        )
    return qty


def size_request(
    request: OrderRequest,
    limits: RiskLimits,
    prices: PriceBook,
    equity: Decimal,
    assets: Mapping[str, Asset],
    now: float,
    confidence: float | None,
) -> Decimal | Refusal:
    """Size an order by the configured policy, at its limit price or the fresh last price,
    with the symbol's cached volatility."""
    if limits.sizing is None:
        return Refusal("no_sizing_policy", "no qty given and no [risk.sizing] policy")
    price = request.limit_price
    if price is None:
        price = prices.last(request.symbol, now, limits.max_price_age)
    if price is None:
        return Refusal("no_price", f"no fresh price for {request.symbol} to size by")
    return size_order(
        limits.sizing,
        price=price,
        equity=equity,
        asset=assets.get(request.symbol),
        confidence=confidence,
        volatility=prices.volatility(request.symbol),
    )
