"""Pre-trade checks of the matching core: order size, shorting, qty held, buying power.

Each check raises ``VenueRejection`` with Alpaca's status, code and message.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.orders import (
    OrderTicket,
    SimOrder,
    VenueRejection,
    decimal_text,
    unprocessable,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from brokers.sim.core.assets import SimAsset

ZERO = Decimal(0)
FORBIDDEN = 40310000
# Notional orders buy a quantity rounded down to Alpaca's 9 decimals.
QTY_QUANTUM = Decimal("0.000000001")
MIN_FRACTIONAL_COST = Decimal(1)


def order_qty(ticket: OrderTicket, asset: SimAsset, price: Decimal) -> Decimal:
    """The order's share quantity, from ``qty`` or ``notional``."""
    if ticket.qty is not None and ticket.notional is not None:
        raise VenueRejection(400, 40010000, "qty and notional cannot both be specified")
    if ticket.notional is not None:
        if ticket.notional <= 0:
            raise unprocessable("notional must be > 0")
        qty = (ticket.notional / price).quantize(QTY_QUANTUM, rounding=ROUND_DOWN)
    elif ticket.qty is not None:
        qty = ticket.qty
    else:
        raise unprocessable("qty or notional is required")
    if qty <= 0:
        raise unprocessable("qty must be > 0")
    if qty != qty.to_integral_value() or ticket.notional is not None:
        _check_fractional(ticket, asset, qty, price)
    if qty < asset.min_order_size:
        raise unprocessable(f"qty must be >= {decimal_text(asset.min_order_size)}")
    return qty


def _check_fractional(ticket: OrderTicket, asset: SimAsset, qty: Decimal, price: Decimal) -> None:
    if not asset.fractionable:
        raise unprocessable("requested asset is not fractionable")
    if ticket.time_in_force is not TimeInForce.DAY:
        raise unprocessable("fractional orders must be DAY orders")
    if ticket.type not in (OrderType.MARKET, OrderType.LIMIT):
        raise unprocessable("fractional orders must be market or limit orders")
    if qty * price < MIN_FRACTIONAL_COST:
        raise VenueRejection(403, FORBIDDEN, "cost basis must be >= minimal amount of order 1")


def check_funds(
    ticket: OrderTicket,
    asset: SimAsset,
    qty: Decimal,
    price: Decimal,
    *,
    position_qty: Decimal,
    open_orders: Sequence[SimOrder],
    buying_power: Decimal,
) -> Decimal:
    """Check the account can carry the order; returns the buying power it holds while open.

    Reducing a position needs the shares (no flip from long to short, or back, in one
    order); adding to one needs buying power at the order's price (limit, else stop, else
    the current price).
    """
    pending = sum((o.remaining_qty for o in open_orders if o.side is ticket.side), ZERO)
    reducing = position_qty < 0 if ticket.side is Side.BUY else position_qty > 0
    if reducing:
        available = abs(position_qty) - pending
        if qty > available:
            raise VenueRejection(
                403,
                FORBIDDEN,
                f"insufficient qty available for order (requested: {decimal_text(qty)},"
                f" available: {decimal_text(max(available, ZERO))})",
                symbol=asset.symbol,
                available=decimal_text(max(available, ZERO)),
                existing_qty=decimal_text(abs(position_qty)),
                held_for_orders=decimal_text(pending),
                related_orders=[o.id for o in open_orders if o.side is ticket.side],
            )
        return ZERO
    if ticket.side is Side.SELL:
        if not asset.shortable:
            raise unprocessable(f'asset "{asset.symbol}" cannot be sold short')
        if qty != qty.to_integral_value():
            raise unprocessable("fractional orders cannot be sold short")
    unit = ticket.limit_price or ticket.stop_price or price
    cost = qty * unit
    if cost > buying_power:
        raise VenueRejection(
            403,
            FORBIDDEN,
            "insufficient buying power",
            buying_power=decimal_text(buying_power),
            cost_basis=decimal_text(cost),
        )
    return cost
