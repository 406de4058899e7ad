"""tradingd's own view of one order: a pure state machine with an explicit transition table.

States are tradingd's, not the venue's: ``sending`` (the HTTP call is in flight) and
``unknown`` (sent, no answer: resolved only by a REST lookup, never by a timer) exist only
here. There is no "timed out" state: an order we lost track of is ``unknown`` until the venue
says what became of it.

Fills are counted from the venue's cumulative ``filled_qty``, which only grows, so a
duplicate event, a replayed stream or a REST snapshot racing the stream can never count a
fill twice; execution ids de-duplicate on top of that.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from brokers.base import OrderEvent, OrderRequest, OrderStatus, OrderUpdate, VenueOrder


class State(enum.StrEnum):
    INTENT = "intent"
    SENDING = "sending"
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    DENIED = "denied"

    @property
    def is_final(self) -> bool:
        return self in FINAL


FINAL = frozenset(
    {State.FILLED, State.CANCELED, State.EXPIRED, State.REJECTED, State.REPLACED, State.DENIED}
)

_FROM_VENUE: dict[OrderStatus, State] = {
    OrderStatus.PENDING_NEW: State.ACCEPTED,
    OrderStatus.NEW: State.ACCEPTED,
    OrderStatus.HELD: State.ACCEPTED,
    OrderStatus.SUSPENDED: State.ACCEPTED,
    OrderStatus.DONE_FOR_DAY: State.ACCEPTED,
    OrderStatus.PENDING_REPLACE: State.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED: State.PARTIALLY_FILLED,
    OrderStatus.PENDING_CANCEL: State.PENDING_CANCEL,
    OrderStatus.FILLED: State.FILLED,
    OrderStatus.CANCELED: State.CANCELED,
    OrderStatus.EXPIRED: State.EXPIRED,
    OrderStatus.REJECTED: State.REJECTED,
    OrderStatus.REPLACED: State.REPLACED,
}


def state_of(status: OrderStatus) -> State:
    """tradingd's state for an order the venue reports in ``status``."""
    return _FROM_VENUE[status]


_LIVE = frozenset({State.ACCEPTED, State.PARTIALLY_FILLED, State.PENDING_CANCEL})

# The legal moves on the venue's word. Anything else is illegal: kept out, and the caller
# looks the order up by REST. The venue may skip steps (a fill before its ``new``), so a
# state may jump forward; it may never move back.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.INTENT: frozenset({State.SENDING, State.DENIED, *_LIVE, *FINAL}),
    State.SENDING: frozenset({State.UNKNOWN, *_LIVE, *FINAL} - {State.DENIED}),
    State.UNKNOWN: frozenset({State.SENDING, *_LIVE, *FINAL} - {State.DENIED}),
    State.ACCEPTED: frozenset(_LIVE | FINAL - {State.DENIED}),
    State.PARTIALLY_FILLED: frozenset(
        {State.PARTIALLY_FILLED, State.PENDING_CANCEL, *FINAL} - {State.DENIED}
    ),
    # A fill may still land after a cancel was requested, and a cancel may be refused.
    State.PENDING_CANCEL: frozenset(_LIVE | FINAL - {State.DENIED}),
}


class IllegalTransition(Exception):
    """tradingd itself tried a move its order state table forbids: a bug, never the venue's
    doing (what the venue reports goes through ``TrackedOrder.apply``, which never raises)."""

    def __init__(self, order: str, current: State, target: State) -> None:
        super().__init__(f"order {order}: no move from {current.value} to {target.value}")
        self.current = current
        self.target = target


@attrs.frozen
class NewFill:
    """Quantity newly filled by one update, at its (exact) average price."""

    qty: Decimal
    price: Decimal
    execution_id: str


@attrs.frozen
class Applied:
    fills: tuple[NewFill, ...]
    changed: bool
    needs_lookup: bool  # the update made no sense here: ask the venue


@attrs.define
class TrackedOrder:
    request: OrderRequest
    state: State = State.INTENT
    venue_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    reason: str | None = None
    _execution_ids: set[str] = attrs.field(factory=set)

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    def can_move(self, state: State) -> bool:
        """True when ``move(state)`` would change the state (and not raise)."""
        return state is not self.state and state in TRANSITIONS.get(self.state, frozenset())

    def move(self, state: State, reason: str | None = None) -> bool:
        """A move tradingd makes itself (sending, unknown, denied, pending cancel, rejected on
        the venue's answer): False when the order is in ``state`` already; a move the table
        forbids raises ``IllegalTransition``, since only a bug asks for one."""
        if state is self.state:
            return False
        if state not in TRANSITIONS.get(self.state, frozenset()):
            raise IllegalTransition(self.client_order_id, self.state, state)
        self.state = state
        if reason is not None:
            self.reason = reason
        return True

    def apply(self, update: OrderUpdate) -> Applied:
        """Fold one venue update in; returns the fills it added and whether it fit."""
        order = update.order
        if order.client_order_id != self.client_order_id:
            return Applied((), False, True)
        if update.fill is not None and update.fill.execution_id in self._execution_ids:
            return Applied((), False, False)
        changed = self._adopt_venue_id(order)
        fills = self._take_fills(update, order)
        target = _FROM_VENUE[order.status]
        if target is State.ACCEPTED and order.filled_qty > 0:
            # Done for the day (or pending a replace, suspended) after a partial fill: the
            # order is still partially filled, not back to plain accepted.
            target = State.PARTIALLY_FILLED
        if update.event in (OrderEvent.CANCEL_REJECTED, OrderEvent.REPLACE_REJECTED):
            # The venue refused our cancel/replace: the order lives on as the snapshot says.
            target = _FROM_VENUE[order.status]
        needs_lookup = False
        if target is not self.state:
            if self.state.is_final:
                # Final states absorb everything; only a late fill (counted above) gets in.
                needs_lookup = target.is_final and target is not self.state and not fills
            elif target in TRANSITIONS.get(self.state, frozenset()):
                self.state = target
                changed = True
            else:
                needs_lookup = True
        if self.filled_qty >= self.request.qty and not self.state.is_final:
            self.state = State.FILLED
            changed = True
        return Applied(tuple(fills), changed or bool(fills), needs_lookup)

    def _adopt_venue_id(self, order: VenueOrder) -> bool:
        if self.venue_order_id is None:
            self.venue_order_id = order.venue_order_id
            return True
        return False

    def _take_fills(self, update: OrderUpdate, order: VenueOrder) -> list[NewFill]:
        new_total = min(order.filled_qty, self.request.qty)
        delta = new_total - self.filled_qty
        if delta <= 0:
            return []
        if update.fill is not None and update.fill.qty == delta:
            price = update.fill.price
            execution_id = update.fill.execution_id
        else:
            # Several fills folded into one snapshot: derive their average exactly.
            if order.filled_avg_price is None:
                return []
            old_cost = self.filled_qty * (self.avg_fill_price or Decimal(0))
            price = (new_total * order.filled_avg_price - old_cost) / delta
            execution_id = f"{order.venue_order_id}:{new_total}"
        if update.fill is not None:
            self._execution_ids.add(update.fill.execution_id)
        old_cost = self.filled_qty * (self.avg_fill_price or Decimal(0))
        self.filled_qty = new_total
        self.avg_fill_price = (old_cost + delta * price) / new_total
        return [NewFill(delta, price, execution_id)]
