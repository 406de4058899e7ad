"""A buying-power reservation: the worst-case cost of an approved order, shrunk by its
fills and released at its final state (see ``risk_core``)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from brokers.base import OrderRequest, OrderType, Side

ZERO = Decimal(0)


@attrs.define
class Reservation:
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


def opening_qty(
    request: OrderRequest, position_qty: Decimal, pending_same_side: Decimal
) -> Decimal:
    """How much of the order adds to exposure (a sell against a long reduces first, but
    only what pending sells have not already claimed)."""
    if request.side is Side.SELL:
        reducible = max(ZERO, position_qty - pending_same_side)
    else:
        reducible = max(ZERO, -position_qty - pending_same_side)
    return max(ZERO, request.qty - reducible)
