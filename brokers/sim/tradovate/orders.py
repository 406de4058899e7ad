"""The Tradovate front's order commands on its matching core: place, OSO, OCO, modify,
cancel, liquidate. Each returns Tradovate's result body; a refusal of the core becomes
``failureReason``/``failureText`` (HTTP 200, as every business failure at Tradovate)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.orders import OrderChanges, OrderTicket, VenueRejection
from brokers.sim.tradovate.entities import CommandInfo, Links
from brokers.sim.tradovate.wire import FailureReason, failure, listed

if TYPE_CHECKING:
    from brokers.sim.core.orders import SimOrder
    from brokers.sim.tradovate.front import TradovateFront
    from brokers.sim.tradovate.requests import (
        CancelOrder,
        LiquidatePosition,
        ModifyOrder,
        PlaceOco,
        PlaceOrder,
        PlaceOso,
        RestrainedOrder,
    )

SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
TYPES = {
    "Market": OrderType.MARKET,
    "Limit": OrderType.LIMIT,
    "Stop": OrderType.STOP,
    "StopLimit": OrderType.STOP_LIMIT,
}
TIFS = {
    "Day": TimeInForce.DAY,
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
}
ACCESS_DENIED = failure(FailureReason.UNKNOWN_REASON, "Access is denied")


class Refused(Exception):
    """A business failure, with the body Tradovate answers it with."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("failureText", ""))
        self.body = body


def refusal(rejection: VenueRejection) -> dict[str, Any]:
    """A refusal of the core as Tradovate words one (its reason from the spec's enum)."""
    return {"failureReason": rejection.reason, "failureText": rejection.message}


def ticket_of(
    order: PlaceOrder | RestrainedOrder, symbol: str, qty: int, order_class: str = "simple"
) -> OrderTicket:
    order_type = TYPES.get(order.order_type)
    if order_type is None:
        raise Refused(
            failure(FailureReason.UNSUPPORTED, f"{order.order_type} orders are not supported")
        )
    tif = TIFS.get(order.time_in_force or "Day")
    if tif is None:
        raise Refused(failure(FailureReason.UNSUPPORTED, f"{order.time_in_force} is not supported"))
    limit = order.price if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    stop = order.stop_price if order_type in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    return OrderTicket(
        symbol=symbol,
        side=SIDES[order.action],
        type=order_type,
        time_in_force=tif,
        qty=_qty(qty),
        limit_price=limit,
        stop_price=stop,
        order_class=order_class,
    )


def _qty(qty: int) -> Decimal:
    return Decimal(qty)


def check_account(front: TradovateFront, body: PlaceOrder) -> None:
    """The order's account must be this user's (a user id as accountId is refused)."""
    if body.account_id is not None and body.account_id != front.account_id:
        raise Refused(ACCESS_DENIED)
    if body.account_spec is not None and body.account_spec != front.account_name:
        raise Refused(ACCESS_DENIED)


def check_symbol(front: TradovateFront, symbol: str) -> str:
    if front.core.asset(symbol) is None:
        raise Refused(failure(FailureReason.INVALID_CONTRACT, f"Contract {symbol} not found"))
    return symbol


def submit(front: TradovateFront, ticket: OrderTicket) -> SimOrder:
    try:
        return front.core.submit(ticket, front.clock())
    except VenueRejection as rejected:
        raise Refused(refusal(rejected)) from rejected


def place_order(front: TradovateFront, body: PlaceOrder) -> dict[str, Any]:
    check_account(front, body)
    symbol = check_symbol(front, body.symbol)
    order = submit(front, ticket_of(body, symbol, body.order_qty))
    info = CommandInfo(body.cl_ord_id, body.is_automated, body.text)
    order_id = front.entities.place(order, info, front.clock())
    return {"orderId": order_id}


def place_oso(front: TradovateFront, body: PlaceOso) -> dict[str, Any]:
    """An entry and one or two brackets, sent on the entry's fill; two brackets are OCO
    with each other (the core's bracket, or oto for one)."""
    check_account(front, body)
    symbol = check_symbol(front, body.symbol)
    brackets = [b for b in (body.bracket1, body.bracket2) if b is not None]
    limits = [b for b in brackets if b.order_type == "Limit"]
    stops = [b for b in brackets if b.order_type in ("Stop", "StopLimit")]
    if len(limits) > 1 or len(stops) > 1 or len(limits) + len(stops) != len(brackets):
        raise Refused(
            failure(FailureReason.UNSUPPORTED, "brackets must be one limit and one stop order")
        )
    order_class = "bracket" if len(brackets) == 2 else "oto"
    ticket = ticket_of(body, symbol, body.order_qty, order_class)
    ticket = replace(
        ticket,
        take_profit_limit=limits[0].price if limits else None,
        stop_loss_stop=stops[0].stop_price if stops else None,
        stop_loss_limit=stops[0].price if stops and stops[0].order_type == "StopLimit" else None,
    )
    entry = submit(front, ticket)
    now = front.clock()
    store = front.entities
    order_id = store.place(entry, CommandInfo(body.cl_ord_id, body.is_automated, body.text), now)
    legs = front.core.legs(front.core.order(entry.id))
    by_type = {leg.type is OrderType.LIMIT: leg for leg in legs}
    ids: list[int] = []
    for bracket in brackets:
        leg = by_type[bracket.order_type == "Limit"]
        partner = next((o.id for o in legs if o.id != leg.id), None)
        info = CommandInfo(bracket.cl_ord_id, body.is_automated, bracket.text)
        ids.append(store.place(leg, info, now, Links(parent=entry.id, linked=partner)))
    result: dict[str, Any] = {"orderId": order_id, "oso1Id": ids[0]}
    if len(ids) > 1:
        result["oso2Id"] = ids[1]
    return result


def place_oco(front: TradovateFront, body: PlaceOco) -> dict[str, Any]:
    """Two orders, one cancels the other: a limit and a stop on the same side (the core's
    oco: the limit is the parent, the stop its leg)."""
    check_account(front, body)
    symbol = check_symbol(front, body.symbol)
    pair = {body.order_type, body.other.order_type}
    if pair != {"Limit", "Stop"} or body.action != body.other.action:
        raise Refused(
            failure(
                FailureReason.UNSUPPORTED, "an OCO pair must be a limit and a stop order, one side"
            )
        )
    limit, stop = (body, body.other) if body.order_type == "Limit" else (body.other, body)
    ticket = ticket_of(body, symbol, body.order_qty, "oco")
    ticket = replace(
        ticket,
        type=OrderType.LIMIT,
        limit_price=limit.price,
        stop_price=None,
        take_profit_limit=limit.price,
        stop_loss_stop=stop.stop_price,
    )
    parent = submit(front, ticket)
    leg = front.core.legs(front.core.order(parent.id))[0]
    now = front.clock()
    store = front.entities
    info = CommandInfo(body.cl_ord_id, body.is_automated, body.text)
    other_info = CommandInfo(body.other.cl_ord_id, body.is_automated, body.other.text)
    main, other = (parent, leg) if body.order_type == "Limit" else (leg, parent)
    main_id = store.place(main, info, now, Links(linked=other.id, oco_group=parent.id))
    other_id = store.place(other, other_info, now, Links(linked=main.id, oco_group=parent.id))
    return {"orderId": main_id, "ocoId": other_id}


def modify_order(front: TradovateFront, body: ModifyOrder) -> dict[str, Any]:
    order = _order(front, body.order_id)
    if TYPES.get(body.order_type) is not order.type:
        raise Refused(failure(FailureReason.UNSUPPORTED, "the order type cannot change"))
    tif = TIFS.get(body.time_in_force) if body.time_in_force else None
    changes = OrderChanges(
        qty=_qty(body.order_qty),
        time_in_force=tif,
        limit_price=body.price,
        stop_price=body.stop_price,
    )
    try:
        changed = front.core.modify(order.id, changes, front.clock())
    except VenueRejection as rejected:
        raise Refused(refusal(rejected)) from rejected
    info = CommandInfo(body.cl_ord_id, body.is_automated, body.text)
    return {"commandId": front.entities.modify(changed, info, front.clock())}


def cancel_order(front: TradovateFront, body: CancelOrder) -> dict[str, Any]:
    order = _order(front, body.order_id)
    if not order.is_open:
        raise Refused(failure(FailureReason.TOO_LATE, "Order is not working"))
    info = CommandInfo(body.cl_ord_id, body.is_automated)
    command_id = front.entities.cancel(order, info, front.clock())
    try:
        front.core.cancel(order.id, front.clock())
    except VenueRejection as rejected:
        raise Refused(refusal(rejected)) from rejected
    return {"commandId": command_id}


def liquidate_position(front: TradovateFront, body: LiquidatePosition) -> dict[str, Any]:
    """Cancel the contract's working orders (brackets included), then close the position
    with a market order of exactly its size: never a flip."""
    if body.account_id != front.account_id:
        raise Refused(ACCESS_DENIED)
    contract = next((c for c in listed(front) if c.id == body.contract_id), None)
    if contract is None:
        raise Refused(failure(FailureReason.INVALID_CONTRACT, "Contract not found"))
    try:
        # Before anything is canceled: a close the market refuses must not leave the
        # position without its brackets.
        front.core.check_open()
    except VenueRejection as rejected:
        raise Refused(refusal(rejected)) from rejected
    now = front.clock()
    for order in front.core.orders():
        current = front.core.order(order.id)
        if current.symbol == contract.name and current.is_open:
            front.entities.cancel(current, CommandInfo(is_automated=body.is_automated), now)
            front.core.cancel(current.id, now)
    qty = next((p.qty for p in front.core.positions() if p.symbol == contract.name), None)
    if not qty:
        raise Refused(failure(FailureReason.UNKNOWN_REASON, "No position to liquidate"))
    try:
        closing = front.core.close_position(contract.name, None, now)
    except VenueRejection as rejected:
        raise Refused(refusal(rejected)) from rejected
    order_id = front.entities.place(closing, CommandInfo(is_automated=body.is_automated), now)
    return {"orderId": order_id}


def _order(front: TradovateFront, order_id: int) -> SimOrder:
    core_id = front.entities.core_id(order_id)
    if core_id is None:
        raise Refused(failure(FailureReason.UNKNOWN_REASON, f"Order {order_id} not found"))
    return front.core.order(core_id)
