"""Changing an order in place, as Tradovate's ``modifyorder`` does (pure).

Unlike Alpaca's replace, the order keeps its id: quantity, prices and time in force change
on the same record, the event is ``modified``, and an order the change makes marketable
fills at once. A mixin of ``MatchingCore``, working through the core methods declared
abstract here.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import attrs

from brokers.sim.core.admission import Market, replacement
from brokers.sim.core.orders import OrderChanges, OrderTicket, SimOrder, unprocessable

if TYPE_CHECKING:
    from datetime import datetime

    from brokers.sim.core.assets import SimAsset


class OrderModification(abc.ABC):
    @abc.abstractmethod
    def order(self, order_id: str) -> SimOrder: ...

    @abc.abstractmethod
    def asset(self, symbol: str) -> SimAsset | None: ...

    @abc.abstractmethod
    def _market(self, asset: SimAsset, replacing: SimOrder | None = None) -> Market: ...

    @abc.abstractmethod
    def _emit(self, event: str, order: SimOrder, now: datetime) -> None: ...

    @abc.abstractmethod
    def _match(self, order_id: str, now: datetime) -> None: ...

    def modify(self, order_id: str, changes: OrderChanges, now: datetime) -> SimOrder:
        """Change an open order in place (or raise VenueRejection); returns it changed."""
        old = self.order(order_id)
        if not old.is_open:
            raise unprocessable("order is not open")
        if changes.qty is not None and changes.qty <= old.filled_qty:
            raise unprocessable("qty must exceed the filled quantity")
        asset = self.asset(old.symbol)
        assert asset is not None  # only listed assets are ever traded
        resized = changes.qty is not None and changes.qty != old.qty
        if resized and old.legs:
            # Its exits were sized for it: a smaller entry would leave exits that flip the
            # position when they fill, a bigger one a part unprotected.
            raise unprocessable("the quantity of an order with exit legs cannot change")
        if old.parent_id is not None:
            if changes.qty is not None and changes.qty > old.qty:
                # An exit closes what its entry opened: more would flip the position.
                raise unprocessable("an exit leg cannot grow past its entry's quantity")
            # An exit leg holds nothing of its own: only its prices and size are checked.
            changed = attrs.evolve(
                old,
                qty=changes.qty if changes.qty is not None else old.qty,
                limit_price=changes.limit_price or old.limit_price,
                stop_price=changes.stop_price or old.stop_price,
                time_in_force=changes.time_in_force or old.time_in_force,
                updated_at=now,
            )
            # The account's own price rules (a futures tick grid), as for a new order.
            market = self._market(asset, replacing=old)
            market.rules.check_prices(_as_ticket(changed), asset)
        else:
            fresh = replacement(
                old,
                changes,
                old.client_order_id,
                self._market(asset, replacing=old),
                lambda: old.id,
                now,
            )
            changed = attrs.evolve(
                fresh,
                created_at=old.created_at,
                status=old.status,
                replaces=old.replaces,
                filled_qty=old.filled_qty,
                filled_avg_price=old.filled_avg_price,
                triggered=old.triggered,
            )
        self._emit("modified", changed, now)
        self._match(order_id, now)
        return self.order(order_id)


def _as_ticket(order: SimOrder) -> OrderTicket:
    return OrderTicket(
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        time_in_force=order.time_in_force,
        qty=order.qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
    )
