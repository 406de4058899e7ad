"""Multi-leg orders (bracket, oto, oco): checking their exit prices and building their legs.

Pure. A bracket is an entry with a take-profit limit and a stop-loss stop, both ``held``
until the entry has filled completely; an oto has one of the two exits; an oco is an exit
pair for a position already held, the take-profit limit as parent and the stop as its leg,
both working at once. The take-profit leg shows ``new`` once armed; the stop leg stays
``held`` until its stop price is reached, as at Alpaca.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.orders import OrderTicket, SimOrder, unprocessable

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from decimal import Decimal

ORDER_CLASSES = ("simple", "bracket", "oco", "oto")


def check_legs(ticket: OrderTicket) -> None:
    """Refuse (422) a multi-leg ticket whose class, type or exit prices do not fit."""
    order_class = ticket.order_class
    if order_class not in ORDER_CLASSES:
        raise unprocessable(f"invalid order_class {order_class}")
    take_profit, stop_loss = ticket.take_profit_limit, ticket.stop_loss_stop
    if order_class == "simple":
        if take_profit is not None or stop_loss is not None:
            raise unprocessable("take_profit and stop_loss need a bracket, oco or oto order")
        return
    if ticket.time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
        raise unprocessable(f"{order_class} orders must be day or gtc orders")
    if order_class == "oto":
        if (take_profit is None) == (stop_loss is None):
            raise unprocessable("oto orders need exactly one of take_profit and stop_loss")
        return
    if take_profit is None or stop_loss is None:
        raise unprocessable(f"{order_class} orders need take_profit and stop_loss")
    if order_class == "oco" and ticket.type is not OrderType.LIMIT:
        raise unprocessable("oco orders must be limit orders")
    if order_class == "bracket" and ticket.type not in (OrderType.MARKET, OrderType.LIMIT):
        raise unprocessable("bracket orders must be market or limit orders")
    # The exits sell (or buy back) what the entry buys (or sells): profit is on the far side.
    exit_side = _exit_side(ticket)
    if exit_side is Side.SELL and take_profit <= stop_loss:
        raise unprocessable("take_profit.limit_price must be > stop_loss.stop_price")
    if exit_side is Side.BUY and take_profit >= stop_loss:
        raise unprocessable("take_profit.limit_price must be < stop_loss.stop_price")


def _exit_side(ticket: OrderTicket) -> Side:
    # An oco is itself the exit; the other classes exit on the opposite side of the entry.
    if ticket.order_class == "oco":
        return ticket.side
    return Side.SELL if ticket.side is Side.BUY else Side.BUY


def parent_prices(ticket: OrderTicket) -> tuple[Decimal | None, Decimal | None]:
    """(limit, stop) of the parent order: an oco's parent is its take-profit limit."""
    if ticket.order_class == "oco":
        return ticket.take_profit_limit, None
    return ticket.limit_price, ticket.stop_price


def build_legs(
    ticket: OrderTicket, parent: SimOrder, new_id: Callable[[], str], now: datetime
) -> list[SimOrder]:
    """The exit legs of ``parent``, unarmed unless the class is oco."""
    if ticket.order_class == "simple":
        return []
    exit_side = _exit_side(ticket)
    armed = ticket.order_class == "oco"
    legs: list[tuple[OrderType, Decimal | None, Decimal | None, str]] = []
    if ticket.take_profit_limit is not None and ticket.order_class != "oco":
        legs.append((OrderType.LIMIT, ticket.take_profit_limit, None, "held"))
    if ticket.stop_loss_stop is not None:
        stop_type = OrderType.STOP if ticket.stop_loss_limit is None else OrderType.STOP_LIMIT
        legs.append((stop_type, ticket.stop_loss_limit, ticket.stop_loss_stop, "held"))
    return [
        SimOrder(
            id=new_id(),
            client_order_id=new_id(),
            symbol=parent.symbol,
            asset_id=parent.asset_id,
            side=exit_side,
            type=order_type,
            time_in_force=parent.time_in_force,
            qty=parent.qty,
            notional=None,
            limit_price=limit,
            stop_price=stop,
            extended_hours=False,
            created_at=now,
            updated_at=now,
            status=status,
            order_class=ticket.order_class,
            parent_id=parent.id,
            armed=armed,
        )
        for order_type, limit, stop, status in legs
    ]


def siblings(order: SimOrder, orders: Mapping[str, SimOrder]) -> list[SimOrder]:
    """The other orders of ``order``'s one-cancels-other group (``orders`` by id)."""
    if order.parent_id is not None:
        parent = orders[order.parent_id]
        group = [orders[leg] for leg in parent.legs]
        if parent.order_class == "oco":
            group.append(parent)
    elif order.order_class == "oco":
        group = [orders[leg] for leg in order.legs]
    else:
        return []
    return [o for o in group if o.id != order.id]
