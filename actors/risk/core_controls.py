"""Pre-trade controls on one order: size, quantity rules, price collar and duplicates. Pure:
they take the time, never read it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from actors.signal_bounds import bounded_reason
from brokers.base import Asset, OrderRequest, Side

if TYPE_CHECKING:
    from actors.risk.limits import RiskLimits

ZERO = Decimal(0)


@attrs.frozen
class Refusal:
    code: str  # stable: journaled, and shown in acks and summaries
    # Cut short: a detail may quote an outside number of any length.
    detail: str = attrs.field(converter=bounded_reason)


def check_qty(qty: Decimal, asset: Asset | None) -> Refusal | None:
    """The venue's quantity rules, checked before sending (incident 000: qty < 1 share)."""
    if not qty.is_finite() or qty <= 0:
        return Refusal("bad_qty", f"quantity must be a finite number > 0, got {qty}")
    if asset is None:
        return None
    if not asset.fractionable and qty != qty.to_integral_value():
        return Refusal(
            "fraction_not_allowed", f"{asset.symbol} trades whole shares only, got {qty}"
        )
    if asset.min_order_size is not None and qty < asset.min_order_size:
        return Refusal("below_min_size", f"{qty} is below the minimum of {asset.min_order_size}")
    step = asset.min_trade_increment
    if step is not None and step > 0 and qty % step != 0:
        return Refusal("qty_increment", f"{qty} is not a multiple of {step}")
    return None


def check_order_size(qty: Decimal, notional: Decimal, limits: RiskLimits) -> Refusal | None:
    if limits.max_order_qty is not None and qty > limits.max_order_qty:
        return Refusal("max_order_qty", f"qty {qty} exceeds {limits.max_order_qty}")
    if limits.max_order_notional is not None and notional > limits.max_order_notional:
        return Refusal(
            "max_order_notional", f"notional {notional:.2f} exceeds {limits.max_order_notional}"
        )
    return None


def check_collar(request: OrderRequest, last: Decimal, limits: RiskLimits) -> Refusal | None:
    """A limit price that crosses the market by more than the collar is a typo until proven
    otherwise; a passive one (a bid far below, an offer far above) risks nothing."""
    price = request.limit_price
    if limits.price_collar is None or price is None or last <= 0:
        return None
    band = last * limits.price_collar
    if (request.side is Side.BUY and price > last + band) or (
        request.side is Side.SELL and price < last - band
    ):
        return Refusal(
            "price_collar",
            f"{request.side} limit {price} is more than {limits.price_collar:%} through "
            f"last {last}",
        )
    return None


@attrs.define
class OrderFlow:
    """Recent approvals, for the duplicate-order window: a strategy bug that sends the same
    order again and again under new signal ids (SEC rule 15c3-5's duplicate check). The rate
    caps pace orders instead (``core_pacing``)."""

    limits: RiskLimits
    _last_seen: dict[tuple[str, Side, Decimal], float] = attrs.field(factory=dict)
    # Which approval set each window entry, so an order that never traded can take its own
    # entry back (and only its own: a later identical approval keeps the window).
    _window_of: dict[str, tuple[tuple[str, Side, Decimal], float]] = attrs.field(factory=dict)

    def check(self, request: OrderRequest, now: float) -> Refusal | None:
        self._forget_before(now)
        key = (request.symbol, request.side, request.qty)
        seen = self._last_seen.get(key)
        if seen is not None and now - seen < self.limits.duplicate_window:
            return Refusal(
                "duplicate_order",
                f"{request.side} {request.qty} {request.symbol} already sent {now - seen:.1f}s ago",
            )
        return None

    def record(self, request: OrderRequest, now: float) -> None:
        if self.limits.duplicate_window > 0:
            key = (request.symbol, request.side, request.qty)
            self._last_seen[key] = now
            self._window_of[request.client_order_id] = (key, now)

    def ended(self, client_order_id: str, *, traded: bool) -> None:
        """The order is final. One that never reached the market (refused by the venue, or
        never sent) leaves the duplicate window: sending it again duplicates nothing."""
        entry = self._window_of.pop(client_order_id, None)
        if entry is None or traded:
            return
        key, at = entry
        if self._last_seen.get(key) == at:
            del self._last_seen[key]

    def _forget_before(self, now: float) -> None:
        window = self.limits.duplicate_window
        if len(self._last_seen) > 1024:
            # Bounded memory over months: old keys can no longer match.
            self._last_seen = {k: t for k, t in self._last_seen.items() if now - t < window}
