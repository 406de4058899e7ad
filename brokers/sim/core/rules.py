"""Rules the matching core applies to one order at a time (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers.base import OrderType, Side
from brokers.sim.core.assets import is_valid_price
from brokers.sim.core.orders import CLOSED_STATUSES, OrderTicket, SimOrder, unprocessable

if TYPE_CHECKING:
    from decimal import Decimal

# Working orders that a session close left resting until the next open.
RESTING_STATUSES = frozenset({"done_for_day"})


def holds_shares(order: SimOrder) -> bool:
    # A held stop leg shares its quantity with the working take-profit leg: counted once.
    return order.is_open and order.status != "held"


def marketable(order: SimOrder, price: Decimal) -> bool:
    if order.status in CLOSED_STATUSES or order.status in RESTING_STATUSES:
        return False
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
        return False
    if order.limit_price is None or order.type in (OrderType.MARKET, OrderType.STOP):
        return True
    if order.side is Side.BUY:
        return price <= order.limit_price
    return price >= order.limit_price


def check_order_prices(ticket: OrderTicket) -> None:
    if ticket.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and ticket.limit_price is None:
        raise unprocessable("limit_price is required")
    if ticket.type in (OrderType.STOP, OrderType.STOP_LIMIT) and ticket.stop_price is None:
        raise unprocessable("stop_price is required")
    for name, price in (("limit_price", ticket.limit_price), ("stop_price", ticket.stop_price)):
        if price is not None and not is_valid_price(price):
            raise unprocessable(
                f"invalid {name} {price}. sub-penny increment does not fulfill minimum"
                " pricing criteria"
            )
