"""One symbol's orders under the guard of their exits: the executor core's middle layer.

Pure. ``SymbolOrders`` follows every order; this adds the ``ProtectionKeeper`` that keeps the
position's exits, and carries out what it says after every input (``_tend_protection``):
exits to cancel and exits to send, which go out like the core's own orders.
``executor_core.SymbolExecutor`` adds signals and risk on top.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from actors.executor.core_orders import SymbolOrders, state_record
from actors.executor.effects import Alert, Cancel, Effect, RecordInJournal, Submit
from actors.executor.protection.brackets import covers
from actors.executor.protection.keeper import ProtectionKeeper
from actors.order_state import State, TrackedOrder
from actors.records import IntentRecorded
from brokers.base import Side


@attrs.define
class GuardedOrders(SymbolOrders):
    # The exits guarding this symbol's position (bracket legs, or pairs placed for them).
    protection: ProtectionKeeper = attrs.field(
        default=attrs.Factory(lambda self: ProtectionKeeper(self.symbol), takes_self=True)
    )

    def _resting_exit(self, order: TrackedOrder) -> bool:
        """An exit resting at the venue as the position's guard: not pending work."""
        protection = self.protection.current
        if protection is None or not covers(protection.exit_side, self.position.qty):
            return False  # an exit of a position already gone must still end
        return order.client_order_id in protection.exits and order.state in (
            State.ACCEPTED,
            State.PARTIALLY_FILLED,
        )

    def awaiting_outcome(self) -> list[TrackedOrder]:
        """Orders whose end is still to come, the exits resting as the position's guard
        aside: what ``run --once`` and the unresolved count report."""
        return [o for o in self.unresolved() if not self._resting_exit(o)]

    def _cancel_working(
        self, only: frozenset[str] | None, wall: datetime, out: list[Effect]
    ) -> None:
        """Cancel the orders still working (``only`` those, if given)."""
        unsettled = [o for o in self.unresolved() if only is None or o.client_order_id in only]
        canceling = {o.client_order_id for o in unsettled if o.venue_order_id}
        for order in unsettled:
            if order.state is State.PENDING_CANCEL or not order.venue_order_id:
                continue  # canceled already, or still in flight: canceled once it lands
            if self.protection.parent_of.get(order.client_order_id) in canceling:
                continue  # the venue cancels a parent's legs with it
            self._move(order, State.PENDING_CANCEL, wall, out)
            out.append(Cancel(order.client_order_id, order.venue_order_id))

    def _leg_learned(self, parent: str, leg: str) -> None:
        self.protection.leg_learned(parent, leg)

    def _tend_protection(self, wall: datetime, out: list[Effect], sale_side: Side | None) -> None:
        """Carry out what the exits need now. ``sale_side``: the side of the buy or sell
        signal being worked, if any (a sale not yet sent holds new exits back)."""
        tending = self.protection.tend(
            self.order, self.position, wall, self.unresolved(), sale_side
        )
        for order in tending.cancels:
            if order.state is not State.PENDING_CANCEL and order.venue_order_id:
                self._move(order, State.PENDING_CANCEL, wall, out)
                out.append(Cancel(order.client_order_id, order.venue_order_id))
        if tending.records:
            out.append(RecordInJournal(tuple(tending.records)))
        out.extend(Alert(message) for message in tending.alerts)
        for send in tending.sends:
            request = send.request
            if self.order(request.client_order_id) is not None:
                continue  # never twice
            order = TrackedOrder(request)
            self._live[request.client_order_id] = order
            order.move(State.SENDING)
            intent = IntentRecorded(
                at=wall, signal_id=send.signal_id, leg=send.leg, request=request
            )
            out.append(RecordInJournal((intent, state_record(self.symbol, order, wall))))
            out.append(Submit(request))
