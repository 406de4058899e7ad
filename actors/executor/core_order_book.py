"""One symbol's orders and what the venue says about them: the executor's order book.

Pure. Tracks every order of the symbol (its own, the legs the venue created for them, the
ones adopted at startup) through the venue's answers and events: fills move the confirmed
position exactly once; an uncertain outcome is looked up by client id and resubmitted only
when the venue never got it; 429s and 5xx are retried with backoff that honours the
venue's hint. ``SymbolExecutor`` holds one as a field; nothing here knows of signals or exits
(legs the venue creates are handed over with ``take_learned_legs``).

Moves tradingd makes itself go through ``move``, which raises on one its table forbids (a
bug). What the venue answers or reports never raises: an answer that no longer fits the
order (a submit's failure arriving after the stream already said it was accepted) is
settled by looking the order up.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from typing import TYPE_CHECKING, Literal, assert_never

import attrs

from actors.executor.effects import (
    Alert,
    Cancel,
    Effect,
    Follow,
    Lookup,
    OrderLookedUp,
    RecordInJournal,
    Release,
    Submit,
    SubmitFailed,
    SubmitOutcome,
)
from actors.ids import leg_of
from actors.order_state import State, TrackedOrder, state_of
from actors.position import ConfirmedPosition
from actors.records import (
    FillRecorded,
    JournalRecord,
    OrderFailure,
    OrderRefused,
    OrderStateRecorded,
)
from actors.retry import Backoff
from brokers.base import OrderEvent, OrderRequest, OrderUpdate, VenueOrder, request_of

if TYPE_CHECKING:
    from datetime import datetime

# Final orders kept per symbol for late fills (a fill reported after the cancel that ended
# the order); older ones live on in the journal only.
FINAL_ORDERS_KEPT = 1000


class Retry(enum.Enum):
    """What a due retry does: send the order again, or ask the venue about it."""

    SUBMIT = "submit"
    LOOKUP = "lookup"


@attrs.define
class OrderBook:
    symbol: str
    position: ConfirmedPosition = attrs.field(factory=ConfirmedPosition)
    max_submit_attempts: int = 6
    # Orders not yet final; final ones move to ``_final``, kept (bounded) for late fills.
    _live: dict[str, TrackedOrder] = attrs.field(factory=dict)
    _final: OrderedDict[str, TrackedOrder] = attrs.field(factory=OrderedDict)
    # client_order_id -> (due at, backoff, what to do then)
    _retries: dict[str, tuple[float, Backoff, Retry]] = attrs.field(factory=dict)
    _backoffs: dict[str, Backoff] = attrs.field(factory=dict)
    # Orders whose venue answer (which lists their legs) has come in.
    _legs_known: set[str] = attrs.field(factory=set)
    # Orders the venue refused as a duplicate id: it holds them, even while its lookups miss.
    _held_by_venue: set[str] = attrs.field(factory=set)
    # (parent, leg) for legs the venue created since the last ``take_learned_legs``.
    _learned_legs: list[tuple[str, str]] = attrs.field(factory=list)

    def awaits_legs(self, order: TrackedOrder) -> bool:
        """A filled order with exits whose legs no venue answer has listed yet."""
        has_exits = order.request.take_profit is not None or order.request.stop_loss is not None
        known = order.client_order_id in self._legs_known
        return has_exits and order.filled_qty > 0 and not known

    def take_learned_legs(self) -> list[tuple[str, str]]:
        """The (parent, leg) pairs followed since the last call: the exits' keeper hears of
        them."""
        learned, self._learned_legs = self._learned_legs, []
        return learned

    def order(self, client_order_id: str) -> TrackedOrder | None:
        return self._live.get(client_order_id) or self._final.get(client_order_id)

    def orders(self) -> list[TrackedOrder]:
        return [*self._final.values(), *self._live.values()]

    def unresolved(self) -> list[TrackedOrder]:
        return [o for o in self._live.values() if not o.state.is_final]

    def live(self, client_order_id: str) -> TrackedOrder | None:
        """The order if it is not yet retired as final."""
        return self._live.get(client_order_id)

    def track(self, request: OrderRequest) -> TrackedOrder:
        """Follow a new order of ours, not yet sent."""
        order = TrackedOrder(request)
        self._live[request.client_order_id] = order
        return order

    def forget(self, client_order_id: str) -> None:
        """Drop an order that never went out (sized from a position that moved since)."""
        del self._live[client_order_id]

    def send(
        self, order: TrackedOrder, wall: datetime, reason: str | None = None
    ) -> OrderStateRecorded:
        """Mark ``order`` as being sent; the record of that move, to journal with its intent."""
        order.move(State.SENDING, reason)
        return state_record(self.symbol, order, wall)

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
            match what:
                case Retry.SUBMIT:
                    self.move(order, State.SENDING, wall, out)
                    out.append(Submit.of(order.request, self.position.qty))
                case Retry.LOOKUP:
                    out.append(Lookup(cid))
                case _:
                    assert_never(what)
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

    def resend(self, request: OrderRequest, wall: datetime, out: list[Effect]) -> None:
        """Send again an order whose intent was journaled but which the venue never got."""
        if self.order(request.client_order_id) is not None:
            return
        order = self.track(request)
        record = self.send(order, wall, "resent at startup: the venue never received it")
        out.append(RecordInJournal((record,)))
        out.append(Submit.of(request, self.position.qty))

    def retire_final_orders(self) -> None:
        for cid in [cid for cid, o in self._live.items() if o.state.is_final]:
            self._final[cid] = self._live.pop(cid)
            self._backoffs.pop(cid, None)
            self._retries.pop(cid, None)
            self._held_by_venue.discard(cid)
        while len(self._final) > FINAL_ORDERS_KEPT:
            self._final.popitem(last=False)

    def submit_failed(
        self, msg: SubmitFailed, now: float, wall: datetime, out: list[Effect]
    ) -> None:
        order = self.order(msg.client_order_id)
        if order is not None and self.awaits_legs(order):
            # The stream said it filled but the answer that lists its legs was lost: only
            # a lookup names them, and the monitor has stopped following a final order.
            out.append(Lookup(order.client_order_id))
        if order is None or order.state.is_final:
            return
        if order.state is not State.SENDING:
            # The venue spoke of it since (its stream said accepted before the POST's answer
            # failed, say): this answer no longer fits the order, so the venue's REST view
            # settles it, never a guess from the failure.
            out.append(Lookup(order.client_order_id))
            return
        cid = order.client_order_id
        match msg.outcome:
            case SubmitOutcome.REJECTED:
                # Recorded as a rejection, never as a trade.
                self.move(order, State.REJECTED, wall, out, msg.reason)
                self._explain(order, OrderFailure.VENUE_REJECTED, msg.reason, wall, out)
                out.append(Release(cid))
            case SubmitOutcome.NOT_SENT:
                if self.attempts(cid) >= self.max_submit_attempts:
                    reason = f"not sent after retries: {msg.reason}"
                    self.move(order, State.REJECTED, wall, out, reason)
                    self._explain(order, OrderFailure.NOT_SENT, msg.reason, wall, out)
                    out.append(Release(cid))
                else:
                    self.move(order, State.UNKNOWN, wall, out)
                    self.schedule(cid, now, Retry.SUBMIT, msg.retry_after)
            case SubmitOutcome.DUPLICATE_ID:
                self._held_by_venue.add(cid)
                self.move(order, State.UNKNOWN, wall, out, msg.reason)
                out.append(Lookup(cid))
            case SubmitOutcome.UNKNOWN:
                # It may have arrived: ask the venue before anything else.
                self.move(order, State.UNKNOWN, wall, out, msg.reason)
                out.append(Lookup(cid))
            case _:
                assert_never(msg.outcome)

    def lookup_done(
        self, msg: OrderLookedUp, now: float, wall: datetime, out: list[Effect]
    ) -> None:
        order = self.order(msg.client_order_id)
        if order is None:
            return
        if msg.order is not None:
            update = OrderUpdate(event=OrderEvent.SNAPSHOT, order=msg.order, at=wall, source="rest")
            self.apply_update(update, wall, out)
        elif order.client_order_id in self._held_by_venue:
            # Its lookup lags behind the venue's id check (an index catching up): sending
            # again would only meet the same refusal. Asked again a few times, then left
            # unknown to the monitor's lookups, which route its state here once found.
            cid = order.client_order_id
            if self.attempts(cid) < self.max_submit_attempts:
                self.schedule(cid, now, Retry.LOOKUP, None)
            else:
                tries = self.attempts(cid)
                out.append(
                    Alert(
                        f"order {cid}: refused as a duplicate id, yet not found in "
                        f"{tries} lookups; left unknown until the venue shows it"
                    )
                )
        elif order.state is State.UNKNOWN:
            # The venue never received it: only now is a resubmission safe.
            self.schedule(order.client_order_id, now, Retry.SUBMIT, None)

    def apply_update(self, update: OrderUpdate, wall: datetime, out: list[Effect]) -> None:
        order = self.order(update.order.client_order_id)
        if order is None:
            return
        self._retries.pop(order.client_order_id, None)
        if update.source == "rest":
            self._legs_known.add(order.client_order_id)
        was_rejected = order.state is State.REJECTED
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
        if order.state is State.REJECTED and not was_rejected:
            # The venue's own word (its stream or a lookup): it gives no reason of its own.
            detail = f"the venue reported the order rejected ({update.source})"
            records.append(
                refusal_record(self.symbol, order, wall, OrderFailure.VENUE_REJECTED, detail)
            )
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
            self._learned_legs.append((parent, leg.client_order_id))
            out.append(Follow(leg.client_order_id))
        snapshot = OrderUpdate(event=OrderEvent.SNAPSHOT, order=leg, at=at, source="rest")
        self.apply_update(snapshot, wall, out)

    def cancel(
        self, order: TrackedOrder, wall: datetime, out: list[Effect], why: str | None = None
    ) -> None:
        """Ask the venue to cancel ``order`` (it has a venue id and is not canceling yet);
        ``why``, journaled with it: who asked, when it is not the signal being worked."""
        assert order.venue_order_id is not None
        self.move(order, State.PENDING_CANCEL, wall, out, why)
        out.append(Cancel(order.client_order_id, order.venue_order_id))

    def cancel_working(
        self,
        only: frozenset[str] | None,
        parent_of: dict[str, str],
        wall: datetime,
        out: list[Effect],
        why: str | None = None,
    ) -> None:
        """Cancel the orders still working (``only`` those, if given); a leg whose parent is
        canceled too (``parent_of``) is left to the venue, which cancels it with its parent."""
        unsettled = [o for o in self.unresolved() if only is None or o.client_order_id in only]
        canceling = {o.client_order_id for o in unsettled if o.venue_order_id}
        for order in unsettled:
            if order.state is State.PENDING_CANCEL or not order.venue_order_id:
                continue  # canceled already, or still in flight: canceled once it lands
            if parent_of.get(order.client_order_id) in canceling:
                continue  # the venue cancels a parent's legs with it
            self.cancel(order, wall, out, why)

    def move(
        self,
        order: TrackedOrder,
        state: State,
        wall: datetime,
        out: list[Effect],
        reason: str | None = None,
    ) -> None:
        """A move tradingd makes itself, journaled like every move the venue's word makes.
        Raises ``IllegalTransition`` on a move the table forbids (a bug)."""
        if order.move(state, reason):
            out.append(RecordInJournal((state_record(self.symbol, order, wall),)))

    def _explain(
        self,
        order: TrackedOrder,
        code: OrderFailure,
        detail: str,
        wall: datetime,
        out: list[Effect],
    ) -> None:
        out.append(RecordInJournal((refusal_record(self.symbol, order, wall, code, detail),)))

    def attempts(self, client_order_id: str) -> int:
        backoff = self._backoffs.get(client_order_id)
        return backoff.attempts if backoff else 0

    def schedule(self, client_order_id: str, now: float, what: Retry, hint: float | None) -> None:
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


def refusal_record(
    symbol: str,
    order: TrackedOrder,
    wall: datetime,
    code: str,
    detail: str,
    signal_id: str | None = None,
) -> OrderRefused:
    """What a denied or rejected order was, and why: the journal keeps it with the order."""
    state: Literal["denied", "rejected"] = "denied" if order.state is State.DENIED else "rejected"
    request = order.request
    return OrderRefused(
        at=wall,
        client_order_id=order.client_order_id,
        symbol=symbol,
        state=state,
        signal_id=signal_id,
        leg=leg_of(order.client_order_id),
        side=request.side,
        # A qty-less signal RiskGuard was to size has 0 here: nothing was sized.
        qty=request.qty or None,
        code=str(code),
        detail=detail,
    )
