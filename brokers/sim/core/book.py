"""The venue's order records: by id in submission order, and by client_order_id (pure).

The open ones are indexed too: every fill, price move and account read looks at the open
orders, and scanning the whole day's orders for them made a long day cost the square of its
orders."""

from __future__ import annotations

import attrs

from brokers.sim.core.legs import siblings
from brokers.sim.core.orders import SimOrder, VenueRejection

NOT_FOUND = 40410000


@attrs.define
class OrderBook:
    _orders: dict[str, SimOrder] = attrs.field(factory=dict)  # in submission order
    _by_client_id: dict[str, str] = attrs.field(factory=dict)
    # The open orders by id, in the order they were submitted (an order never opens again
    # once closed, so insertion order is submission order).
    _open: dict[str, SimOrder] = attrs.field(factory=dict)

    def get(self, order_id: str) -> SimOrder:
        """The order, or a 404 VenueRejection."""
        order = self._orders.get(order_id)
        if order is None:
            raise VenueRejection(404, NOT_FOUND, "order not found")
        return order

    def by_client_id(self, client_order_id: str) -> SimOrder:
        order_id = self._by_client_id.get(client_order_id)
        if order_id is None:
            raise VenueRejection(404, NOT_FOUND, "order not found")
        return self._orders[order_id]

    def knows(self, client_order_id: str) -> bool:
        return client_order_id in self._by_client_id

    def all(self) -> list[SimOrder]:
        """Every order, oldest first."""
        return list(self._orders.values())

    def open_orders(self) -> list[SimOrder]:
        """Every open order, oldest first."""
        return list(self._open.values())

    def legs(self, order: SimOrder) -> list[SimOrder]:
        return [self._orders[leg] for leg in order.legs]

    def siblings(self, order: SimOrder) -> list[SimOrder]:
        """The other orders of ``order``'s one-cancels-other group."""
        return siblings(order, self._orders)

    def add(self, order: SimOrder) -> None:
        """A new order, known by its id and its client_order_id from now on."""
        self._orders[order.id] = order
        self._by_client_id[order.client_order_id] = order.id
        self._index(order)

    def put(self, order: SimOrder) -> None:
        """The new record of an order already in the book."""
        self._orders[order.id] = order
        self._index(order)

    def _index(self, order: SimOrder) -> None:
        if order.is_open:
            self._open[order.id] = order
        else:
            self._open.pop(order.id, None)
