"""The matching core's commands past matching: an order's time in force running out, the
session closing and opening, a cancel held pending (pure).

A mixin of ``MatchingCore``: it works through the few core methods declared abstract here.
"""

from __future__ import annotations

import abc
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from brokers.base import TimeInForce
from brokers.sim.core.orders import SimOrder, unprocessable

if TYPE_CHECKING:
    from datetime import datetime

ZERO = Decimal(0)


class OrderLifecycle(abc.ABC):
    @abc.abstractmethod
    def order(self, order_id: str) -> SimOrder: ...

    @abc.abstractmethod
    def orders(self) -> list[SimOrder]: ...

    @abc.abstractmethod
    def legs(self, order: SimOrder) -> list[SimOrder]: ...

    @abc.abstractmethod
    def _session_closed(self) -> None:
        """Take the account's figures at the close (``last_equity``)."""

    @abc.abstractmethod
    def _emit(self, event: str, order: SimOrder, now: datetime) -> None:
        """Record ``order`` as the event left it, and stream the event."""

    @abc.abstractmethod
    def _store(self, order: SimOrder) -> None:
        """Record ``order`` without an event."""

    @abc.abstractmethod
    def _match(self, order_id: str, now: datetime) -> None: ...

    def request_cancel(self, order_id: str, now: datetime) -> SimOrder:
        """Mark a working order ``pending_cancel``: it works on, and may still fill, until
        ``cancel`` ends it (or ``refuse_cancel`` says it filled first)."""
        order = self.order(order_id)
        if order.status not in ("new", "partially_filled"):
            raise unprocessable("order is not cancelable")
        pending = attrs.evolve(order, status="pending_cancel", updated_at=now)
        self._emit("pending_cancel", pending, now)
        return pending

    def refuse_cancel(self, order_id: str, now: datetime) -> SimOrder:
        """A requested cancel came too late: the order as it stands, ``order_cancel_rejected``."""
        order = self.order(order_id)
        self._emit("order_cancel_rejected", order, now)
        return order

    def expire(self, order_id: str, now: datetime) -> SimOrder:
        """End an open order (and its open legs) at the end of its time in force."""
        order = self.order(order_id)
        if not order.is_open:
            return order
        expired = attrs.evolve(order, status="expired", expired_at=now, updated_at=now, hold=ZERO)
        self._emit("expired", expired, now)
        for leg in self.legs(order):
            if leg.is_open:
                self.expire(leg.id, now)
        return expired

    def close_session(self, now: datetime, *, done_for_day: bool = False) -> None:
        """The session closes: open ``day`` orders expire; with ``done_for_day``, working
        ``gtc`` orders are done for the day and rest until the next open."""
        for order in self.orders():
            current = self.order(order.id)
            if not current.is_open:
                continue
            if current.time_in_force is TimeInForce.DAY:
                self.expire(current.id, now)
            elif done_for_day and current.status in ("new", "partially_filled"):
                resting = attrs.evolve(current, status="done_for_day", updated_at=now)
                self._emit("done_for_day", resting, now)
        self._session_closed()

    def open_session(self, now: datetime) -> None:
        """The session opens: orders done for the day work again, and may fill at once."""
        for order in self.orders():
            if order.status == "done_for_day":
                working = "partially_filled" if order.filled_qty > 0 else "new"
                self._store(attrs.evolve(order, status=working, updated_at=now))
                self._match(order.id, now)
