"""One symbol's orders and what the venue says about them: the executor core's lower half.

Pure. Tracks every order of the symbol (its own, the legs the venue created for them, the
ones adopted at startup) through the venue's answers and events: fills move the confirmed
position exactly once; an uncertain outcome is looked up by client id and resubmitted only
when the venue never got it; 429s and 5xx are retried with backoff that honours the
venue's hint. ``executor_guarded`` adds the exits on top, then risk and signals.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

import attrs

from actors.executor.effects import (
    Alert,
    Effect,
    Follow,
    Lookup,
    OrderLookedUp,
    RecordInJournal,
    Release,
    Submit,
    SubmitFailed,
)
from actors.executor.protection.brackets import request_of
from actors.order_state import State, TrackedOrder, state_of
from actors.position import ConfirmedPosition
from actors.records import FillRecorded, JournalRecord, OrderStateRecorded
from actors.retry import Backoff
from brokers.base import OrderEvent, OrderRequest, OrderUpdate, VenueOrder

# Final orders kept per symbol for late fills (a fill reported after the cancel that ended
# the order); older ones live on in the journal only.
FINAL_ORDERS_KEPT = 1000


@attrs.define
class SymbolOrders:
    symbol: str
    position: ConfirmedPosition = attrs.field(factory=ConfirmedPosition)
    max_submit_attempts: int = 6
    # Orders not yet final; final ones move to ``_final``, kept (bounded) for late fills.
    _live: dict[str, TrackedOrder] = attrs.field(factory=dict)
    _final: OrderedDict[str, TrackedOrder] = attrs.field(factory=OrderedDict)
    # client_order_id -> (due at, backoff, "submit" | "lookup")
    _retries: dict[str, tuple[float, Backoff, str]] = attrs.field(factory=dict)
    _backoffs: dict[str, Backoff] = attrs.field(factory=dict)
    # Orders whose venue answer (which lists their legs) has come in.
    _legs_known: set[str] = attrs.field(factory=set)
    # Orders the venue refused as a duplicate id: it holds them, even while its lookups miss.
    _held_by_venue: set[str] = attrs.field(factory=set)

    def awaits_legs(self, order: TrackedOrder) -> bool:
        """A filled order with exits whose legs no venue answer has listed yet."""
        has_exits = order.request.take_profit is not None or order.request.stop_loss is not None
        known = order.client_order_id in self._legs_known
        return has_exits and order.filled_qty > 0 and not known

    def _leg_learned(self, parent: str, leg: str) -> None:
        """A leg of ``parent`` is followed from now on (the executor's protection listens)."""

    def order(self, client_order_id: str) -> TrackedOrder | None:
        return self._live.get(client_order_id) or self._final.get(client_order_id)

    def orders(self) -> list[TrackedOrder]:
        return [*self._final.values(), *self._live.values()]

    def unresolved(self) -> list[TrackedOrder]:
        return [o for o in self._live.values() if not o.state.is_final]

    def next_deadline(self) -> float:
        return min((at for at, _, _ in self._retries.values()), default=float("inf"))

    def adopt(self, order: VenueOrder) -> None:
        """Take over an order the venue already holds (found at startup), as it stands now.

        Its fills so far are already in the venue's position this executor starts from, so
        only fills from here on move the position.
        """
        tracked = TrackedOrder(
            request_of(order),
            state=State.PARTIALLY_FILLED if order.filled_qty else State.ACCEPTED,
            venue_order_id=order.venue_order_id,
            filled_qty=order.filled_qty,
            avg_fill_price=order.filled_avg_price,
        )
        self._live[order.client_order_id] = tracked

    def on_timer(self, now: float, wall: datetime) -> list[Effect]:
        out: list[Effect] = []
        for cid, (at, _, what) in list(self._retries.items()):
            if at > now:
                continue
            del self._retries[cid]
            order = self._live.get(cid)
            if order is None:
                continue
            if what == "submit":
                self._move(order, State.SENDING, wall, out)
                out.append(Submit(order.request))
            else:
                out.append(Lookup(cid))
        return out

    def remember(self, order: VenueOrder) -> None:
        """Know a final order of ours the journal never recorded (found at startup), so the
        signal that made it, fed again, is a duplicate instead of a second order whose fills
        would count twice: they are already in the venue position this executor starts from.
        """
        self.adopt(order)
        tracked = self._live.pop(order.client_order_id)
        tracked.state = state_of(order.status)
        self._final[order.client_order_id] = tracked

    def _on_resend(self, request: OrderRequest, wall: datetime, out: list[Effect]) -> None:
        """Send again an order whose intent was journaled but which the venue never got."""
        if self.order(request.client_order_id) is not None:
            return
        order = TrackedOrder(request)
        self._live[request.client_order_id] = order
        order.move(State.SENDING, "resent at startup: the venue never received it")
        out.append(RecordInJournal((state_record(self.symbol, order, wall),)))
        out.append(Submit(request))

    def _retire_final_orders(self) -> None:
        for cid in [cid for cid, o in self._live.items() if o.state.is_final]:
            self._final[cid] = self._live.pop(cid)
            self._backoffs.pop(cid, None)
            self._retries.pop(cid, None)
            self._held_by_venue.discard(cid)
        while len(self._final) > FINAL_ORDERS_KEPT:
            self._final.popitem(last=False)

    def _on_submit_failed(
        self, msg: SubmitFailed, now: float, wall: datetime, out: list[Effect]
    ) -> None:
        order = self.order(msg.client_order_id)
        if order is not None and self.awaits_legs(order):
            # The stream said it filled but the answer that lists its legs was lost: only
            # a lookup names them, and the monitor has stopped following a final order.
            out.append(Lookup(order.client_order_id))
        if order is None or order.state.is_final:
            return
        match msg.outcome:
            case "rejected":
                # Recorded as a rejection, never as a trade.
                order.move(State.REJECTED, msg.reason)
                out.append(RecordInJournal((state_record(self.symbol, order, wall),)))
                out.append(Release(order.client_order_id))
            case "not_sent":
                if self._attempts(order.client_order_id) >= self.max_submit_attempts:
                    order.move(State.REJECTED, f"not sent after retries: {msg.reason}")
                    out.append(RecordInJournal((state_record(self.symbol, order, wall),)))
                    out.append(Release(order.client_order_id))
                else:
                    self._move(order, State.UNKNOWN, wall, out)
                    self._schedule(order.client_order_id, now, "submit", msg.retry_after)
            case "duplicate_id":
                self._held_by_venue.add(order.client_order_id)
                self._move(order, State.UNKNOWN, wall, out, msg.reason)
                out.append(Lookup(order.client_order_id))
            case _:  # "unknown": ask the venue before anything else
                order.move(State.UNKNOWN, msg.reason)
                out.append(RecordInJournal((state_record(self.symbol, order, wall),)))
                out.append(Lookup(order.client_order_id))

    def _on_lookup(self, msg: OrderLookedUp, now: float, wall: datetime, out: list[Effect]) -> None:
        order = self.order(msg.client_order_id)
        if order is None:
            return
        if msg.order is not None:
            update = OrderUpdate(event=OrderEvent.SNAPSHOT, order=msg.order, at=wall, source="rest")
            self._on_update(update, wall, out)
        elif order.client_order_id in self._held_by_venue:
            # Its lookup lags behind the venue's id check (an index catching up): sending
            # again would only meet the same refusal. Asked again a few times, then left
            # unknown to the monitor's lookups, which route its state here once found.
            cid = order.client_order_id
            if self._attempts(cid) < self.max_submit_attempts:
                self._schedule(cid, now, "lookup", None)
            else:
                tries = self._attempts(cid)
                out.append(
                    Alert(
                        f"order {cid}: refused as a duplicate id, yet not found in "
                        f"{tries} lookups; left unknown until the venue shows it"
                    )
                )
        elif order.state is State.UNKNOWN:
            # The venue never received it: only now is a resubmission safe.
            self._schedule(order.client_order_id, now, "submit", None)

    def _on_update(self, update: OrderUpdate, wall: datetime, out: list[Effect]) -> None:
        order = self.order(update.order.client_order_id)
        if order is None:
            return
        self._retries.pop(order.client_order_id, None)
        if update.source == "rest":
            self._legs_known.add(order.client_order_id)
        applied = order.apply(update)
        records: list[JournalRecord] = []
        for fill in applied.fills:
            self.position.apply_fill(order.request.side, fill.qty, fill.price)
            records.append(
                FillRecorded(
                    at=update.fill.at if update.fill else wall,
                    client_order_id=order.client_order_id,
                    symbol=self.symbol,
                    side=order.request.side,
                    execution_id=fill.execution_id,
                    qty=fill.qty,
                    price=fill.price,
                )
            )
        if applied.fills:
            records.append(self.position.record(self.symbol, wall))
        if applied.changed:
            records.append(state_record(self.symbol, order, wall))
        if records:
            out.append(RecordInJournal(tuple(records)))
        if applied.needs_lookup:
            out.append(Lookup(order.client_order_id))
        for leg in update.order.legs:
            self._follow_leg(order.client_order_id, leg, update.at, wall, out)

    def _follow_leg(
        self, parent: str, leg: VenueOrder, at: datetime, wall: datetime, out: list[Effect]
    ) -> None:
        """A leg the venue created for our order: ours to follow from now on; its fills
        move the position like any other (a take-profit fill closes it)."""
        if self.order(leg.client_order_id) is None:
            self._live[leg.client_order_id] = TrackedOrder(request_of(leg))
            self._leg_learned(parent, leg.client_order_id)
            out.append(Follow(leg.client_order_id))
        snapshot = OrderUpdate(event=OrderEvent.SNAPSHOT, order=leg, at=at, source="rest")
        self._on_update(snapshot, wall, out)

    def _move(
        self,
        order: TrackedOrder,
        state: State,
        wall: datetime,
        out: list[Effect],
        reason: str | None = None,
    ) -> None:
        """A local move, journaled like every move the venue's word makes."""
        if order.move(state, reason):
            out.append(RecordInJournal((state_record(self.symbol, order, wall),)))

    def _attempts(self, client_order_id: str) -> int:
        backoff = self._backoffs.get(client_order_id)
        return backoff.attempts if backoff else 0

    def _schedule(self, client_order_id: str, now: float, what: str, hint: float | None) -> None:
        backoff = self._backoffs.setdefault(client_order_id, Backoff())
        self._retries[client_order_id] = (now + backoff.next_delay(hint), backoff, what)


def state_record(symbol: str, order: TrackedOrder, wall: datetime) -> OrderStateRecorded:
    return OrderStateRecorded(
        at=wall,
        client_order_id=order.client_order_id,
        symbol=symbol,
        state=order.state.value,
        venue_order_id=order.venue_order_id,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        reason=order.reason,
    )
