"""A small venue for executor tests: brackets with held legs, oco pairs, one-cancels-other,
cancels. It answers like the real ones do in the cases the executor must handle, nothing
more."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import attrs
import msgspec

from brokers.base import (
    Fill,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    VenueOrder,
)
from tests.builders import T0

OPEN = (OrderStatus.NEW, OrderStatus.HELD, OrderStatus.PARTIALLY_FILLED)


@attrs.define
class SimOrder:
    request: OrderRequest
    venue_id: str
    status: OrderStatus = OrderStatus.NEW
    filled: D = D(0)
    avg: D | None = None
    legs: list[str] = attrs.field(factory=list)
    parent: str | None = None
    is_exit: bool = False  # a leg, or an oco's take-profit: one-cancels-other applies

    @property
    def open(self) -> bool:
        return self.status in OPEN


@attrs.define
class Venue:
    """A small venue: brackets with held legs, oco pairs, one-cancels-other, cancels."""

    orders: dict[str, SimOrder] = attrs.field(factory=dict)
    submissions: dict[str, int] = attrs.field(factory=dict)
    position: D = D(0)
    ids: itertools.count[int] = attrs.field(factory=itertools.count)

    def snapshot(self, cid: str) -> VenueOrder:
        o = self.orders[cid]
        return VenueOrder(
            venue_order_id=o.venue_id,
            client_order_id=cid,
            symbol="AAPL",
            side=o.request.side,
            qty=o.request.qty,
            filled_qty=o.filled,
            filled_avg_price=o.avg,
            status=o.status,
            order_type=o.request.order_type,
            time_in_force=TimeInForce.DAY,
            limit_price=o.request.limit_price,
            stop_price=o.request.stop_price,
            submitted_at=T0,
            updated_at=T0,
            legs=tuple(self.snapshot(leg) for leg in o.legs),
        )

    def submit(self, request: OrderRequest) -> VenueOrder:
        cid = request.client_order_id
        self.submissions[cid] = self.submissions.get(cid, 0) + 1
        parent = SimOrder(request, f"v{next(self.ids)}")
        self.orders[cid] = parent
        exit_side = request.side.opposite()
        legs: list[OrderRequest] = []
        if request.order_class == "oco":
            parent.is_exit = True
            exit_side = request.side
            legs.append(_leg(request, exit_side, OrderType.STOP, None, request.stop_loss))
        else:
            if request.take_profit is not None:
                legs.append(_leg(request, exit_side, OrderType.LIMIT, request.take_profit, None))
            if request.stop_loss is not None:
                legs.append(_leg(request, exit_side, OrderType.STOP, None, request.stop_loss))
        for leg_request in legs:
            leg = SimOrder(leg_request, f"v{next(self.ids)}", parent=cid, is_exit=True)
            if request.order_class != "oco":
                leg.status = OrderStatus.HELD
            self.orders[leg_request.client_order_id] = leg
            parent.legs.append(leg_request.client_order_id)
        return self.snapshot(cid)

    def fill(self, cid: str, qty: D, price: D) -> list[OrderUpdate]:
        o = self.orders[cid]
        qty = min(qty, o.request.qty - o.filled)
        cost = o.filled * (o.avg or D(0)) + qty * price
        o.filled += qty
        o.avg = cost / o.filled
        o.status = OrderStatus.FILLED if o.filled == o.request.qty else OrderStatus.PARTIALLY_FILLED
        self.position += qty if o.request.side is Side.BUY else -qty
        fill = Fill(execution_id=f"x{next(self.ids)}", qty=qty, price=price, at=T0)
        event = OrderEvent.FILL if o.status is OrderStatus.FILLED else OrderEvent.PARTIAL_FILL
        updates = [self._update(cid, event, fill)]
        if o.status is OrderStatus.FILLED and not o.is_exit:
            for leg in o.legs:  # the entry filled whole: its exits arm (a canceled one stays so)
                if self.orders[leg].status is OrderStatus.HELD:
                    self.orders[leg].status = OrderStatus.NEW
        if o.is_exit:  # one-cancels-other, at the exit's first fill
            family = self._family(cid)
            updates += [u for other in family if other != cid for u in self.cancel(other)]
        return updates

    def cancel(self, cid: str) -> list[OrderUpdate]:
        o = self.orders[cid]
        if not o.open:
            return []
        o.status = OrderStatus.CANCELED
        updates = [self._update(cid, OrderEvent.CANCELED)]
        for leg in o.legs:
            updates += self.cancel(leg)
        return updates

    def _family(self, cid: str) -> list[str]:
        o = self.orders[cid]
        root = o.parent or cid
        root_order = self.orders[root]
        members = list(root_order.legs)
        if root_order.is_exit:
            members.append(root)
        return members

    def _update(self, cid: str, event: OrderEvent, fill: Fill | None = None) -> OrderUpdate:
        order = msgspec.structs.replace(self.snapshot(cid), legs=())  # streams carry no legs
        return OrderUpdate(event=event, order=order, at=T0, fill=fill)

    def working_exit_qty(self, exits: set[str]) -> D:
        """What the working exits can sell (or buy back) at most: one of each pair fills."""
        by_family: dict[str, D] = {}
        for cid, o in self.orders.items():
            if cid in exits and o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                root = o.parent or cid
                by_family[root] = max(by_family.get(root, D(0)), o.request.qty - o.filled)
        return sum(by_family.values(), D(0))


def _leg(
    parent: OrderRequest, side: Side, kind: OrderType, limit: D | None, stop: D | None
) -> OrderRequest:
    return OrderRequest(
        client_order_id=f"leg-{parent.client_order_id}-{kind.value}",
        symbol="AAPL",
        side=side,
        qty=parent.qty,
        order_type=kind,
        limit_price=limit,
        stop_price=stop,
    )
