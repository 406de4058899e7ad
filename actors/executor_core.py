"""PerSymbolExecutor's pure core: one symbol's signals become the minimal correct orders.

The core takes messages with ``now`` (trio time, for deadlines) and ``wall`` (UTC, for
records) and returns effects; it never awaits. Its rules:

- a symbol's signals apply one at a time, in order; a signal that arrives while one is being
  worked waits in a queue and is acked ``accepted`` at once;
- a close or target is sized from the broker-confirmed position only, after the previous
  signal's orders are final; a close against a flat position sends nothing;
- every order's ``client_order_id`` derives from the signal id and the leg, so a resend can
  never become a second order; after an uncertain outcome the order is looked up by that id,
  and resubmitted only when the venue says it never got it.
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from datetime import datetime
from decimal import Decimal
from typing import Any, assert_never

import attrs
import msgspec

from actors.brackets import Protection, ProtectionFailurePolicy, covers, request_of
from actors.executor_effects import (
    Alert,
    AskRisk,
    Cancel,
    CancelFailed,
    Effect,
    ExecutorInput,
    Follow,
    Journal,
    Lookup,
    LookupDone,
    LookupFailed,
    Release,
    ResendIntent,
    Submit,
    SubmitAccepted,
    SubmitFailed,
    client_order_id_for,
    is_own_client_order_id,
)
from actors.messages import (
    Ack,
    AckStatus,
    Action,
    Approved,
    Denied,
    ExecuteSignal,
    Signal,
    order_side_for_delta,
)
from actors.order_state import FINAL, State, TrackedOrder
from actors.position import ConfirmedPosition
from actors.protection_keeper import ProtectionKeeper
from actors.records import (
    FillRecorded,
    IntentRecorded,
    JournalRecord,
    OrderStateRecorded,
    PositionRecorded,
    RiskDenied,
    SignalRecorded,
)
from actors.retry import Backoff
from brokers.base import OrderEvent, OrderRequest, OrderType, OrderUpdate, Side, VenueOrder


class Phase(enum.Enum):
    RISK = "risk"  # waiting for RiskGuard
    ORDER = "order"  # the signal's order is being sent or worked
    CANCELING = "canceling"  # waiting for working orders to be canceled (close, target)


# Final orders kept per symbol for late fills (a fill reported after the cancel that ended
# the order); older ones live on in the journal only.
FINAL_ORDERS_KEPT = 1000


@attrs.define
class Job:
    signal: Signal
    reply: Any | None  # None once acked
    received_at: datetime
    phase: Phase | None = None
    client_order_id: str | None = None


@attrs.define
class SymbolExecutor:
    symbol: str
    position: ConfirmedPosition = attrs.field(factory=ConfirmedPosition)
    max_submit_attempts: int = 6
    # Orders not yet final; final ones move to ``_final``, kept (bounded) for late fills.
    _live: dict[str, TrackedOrder] = attrs.field(factory=dict)
    _final: OrderedDict[str, TrackedOrder] = attrs.field(factory=OrderedDict)
    _queue: deque[Job] = attrs.field(factory=deque)
    _job: Job | None = None
    # client_order_id -> (due at, backoff, "submit" | "lookup")
    _retries: dict[str, tuple[float, Backoff, str]] = attrs.field(factory=dict)
    _backoffs: dict[str, Backoff] = attrs.field(factory=dict)
    # The exits guarding this symbol's position (bracket legs, or pairs placed for them).
    protection: ProtectionKeeper = attrs.field(
        default=attrs.Factory(lambda self: ProtectionKeeper(self.symbol), takes_self=True)
    )
    # "supersede": a newer signal replaces the one queued behind the one being worked.
    supersede_queued: bool = False
    # Orders with exits whose venue answer (listing their legs) has come in.
    _legs_known: set[str] = attrs.field(factory=set)

    # --- queries (the shell and tests read these) --------------------------------------

    @property
    def idle(self) -> bool:
        """Nothing to do until the venue or a signal says something: exits resting at the
        venue are the position's guard, not pending work."""
        if self._job is not None or self._queue:
            return False
        return all(self._resting_exit(o) for o in self.unresolved())

    def _resting_exit(self, order: TrackedOrder) -> bool:
        protection = self.protection.current
        if protection is None or not covers(protection.exit_side, self.position.qty):
            return False  # an exit of a position already gone must still end
        return order.client_order_id in protection.exits and order.state in (
            State.ACCEPTED,
            State.PARTIALLY_FILLED,
        )

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

    # --- inputs ------------------------------------------------------------------------

    def handle(self, msg: ExecutorInput, now: float, wall: datetime) -> list[Effect]:
        out: list[Effect] = []
        match msg:
            case ExecuteSignal():
                self._on_signal(msg, wall, out)
            case Approved():
                self._on_approved(msg, wall, out)
            case Denied():
                self._on_denied(msg, wall, out)
            case SubmitAccepted():
                update = OrderUpdate(
                    event=OrderEvent.SNAPSHOT, order=msg.order, at=wall, source="rest"
                )
                self._on_update(update, wall, out)
            case SubmitFailed():
                self._on_submit_failed(msg, now, wall, out)
            case LookupDone():
                self._on_lookup(msg, now, wall, out)
            case LookupFailed():
                self._schedule(msg.client_order_id, now, "lookup", msg.retry_after)
            case CancelFailed():
                # The order lives on; a lookup says how it stands (it may have filled).
                out.append(Lookup(msg.client_order_id))
            case OrderUpdate():
                self._on_update(msg, wall, out)
            case ResendIntent():
                self._on_resend(msg.request, wall, out)
            case _:
                assert_never(msg)
        self._tend_protection(wall, out)
        self._advance(wall, out)
        self._retire_final_orders()
        return out

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

    def _retire_final_orders(self) -> None:
        for cid in [cid for cid, o in self._live.items() if o.state.is_final]:
            self._final[cid] = self._live.pop(cid)
            self._backoffs.pop(cid, None)
            self._retries.pop(cid, None)
        while len(self._final) > FINAL_ORDERS_KEPT:
            self._final.popitem(last=False)

    # --- signals -----------------------------------------------------------------------

    def _on_signal(self, msg: ExecuteSignal, wall: datetime, out: list[Effect]) -> None:
        job = Job(msg.signal, msg.reply, msg.received_at)
        if self._job is not None or self._queue:
            reason = "queued behind an earlier signal"
            if self.supersede_queued and self._queue:
                replaced = [j.signal.id for j in self._queue]
                self._supersede(job.signal.id, wall, out)
                reason = f"queued, superseding {', '.join(replaced)}"
            # Ack now, durably, so no source ever waits on another signal's orders.
            self._ack(job, wall, out, status="accepted", reason=reason)
            self._queue.append(job)
            return
        self._start(job, wall, out)

    def _supersede(self, newer: str, wall: datetime, out: list[Effect]) -> None:
        """Drop the queued signals: they were acked at once, so the journal says why they
        never traded (their ids stay spent: a resend still acks duplicate)."""
        records = tuple(
            SignalRecorded(
                at=wall,
                signal_id=old.signal.id,
                source="router",
                raw=_encode_signal(old.signal),
                status="superseded",
                reason=f"superseded by {newer}",
            )
            for old in self._queue
        )
        self._queue.clear()
        out.append(Journal(records))

    def _start(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        self._job = job
        if job.signal.action in (Action.CLOSE, Action.TARGET):
            # The exits go with the position they guard; canceled below with the rest.
            dropped = self.protection.drop(wall, f"dropped by {job.signal.action.value}")
            if dropped:
                out.append(Journal(tuple(dropped)))
            if self.unresolved():
                # Size from a settled position: cancel what still works (and let what is in
                # flight land) first.
                job.phase = Phase.CANCELING
                self._cancel_working(wall, out)
                return
        self._request_order(job, wall, out)

    def _cancel_working(self, wall: datetime, out: list[Effect]) -> None:
        unsettled = self.unresolved()
        canceling = {o.client_order_id for o in unsettled if o.venue_order_id}
        for order in unsettled:
            if order.state is State.PENDING_CANCEL or not order.venue_order_id:
                continue  # canceled already, or still in flight: canceled once it lands
            if self.protection.parent_of.get(order.client_order_id) in canceling:
                continue  # the venue cancels a parent's legs with it
            self._move(order, State.PENDING_CANCEL, wall, out)
            out.append(Cancel(order.client_order_id, order.venue_order_id))

    def _request_order(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        if self.protection.halted is not None and job.signal.action is not Action.CLOSE:
            reason = f"symbol halted: {self.protection.halted}; only close is accepted"
            self._ack(job, wall, out, status="rejected", reason=reason)
            self._job = None
            return
        request = self._order_for(job.signal)
        if isinstance(request, str):
            self._ack(job, wall, out, status="accepted", reason=request)
            self._job = None
            return
        job.phase = Phase.RISK
        job.client_order_id = request.client_order_id
        if self.order(request.client_order_id) is not None:
            # Only reachable if a signal id repeats past the router's dedupe: never resend.
            self._ack(job, wall, out, status="duplicate", reason="order already exists")
            self._job = None
            return
        self._live[request.client_order_id] = TrackedOrder(request)
        out.append(AskRisk(request, self.position.qty))

    def _order_for(self, signal: Signal) -> OrderRequest | str:
        """The order a signal needs now, or the reason it needs none."""
        match signal.action:
            case Action.CLOSE:
                close = self.position.close_order()
                if close is None:
                    return "no order: position is flat"
                side, qty = close
                return self._plain(signal, "close", side, qty)
            case Action.TARGET:
                assert signal.target_qty is not None
                delta = signal.target_qty - self.position.qty
                if delta == 0:
                    return f"no order: position is already {self.position.qty}"
                return self._plain(signal, "target", order_side_for_delta(delta), abs(delta))
            case Action.BUY | Action.SELL:
                assert signal.qty is not None
                entry = OrderRequest(
                    client_order_id=client_order_id_for(signal.id, "entry"),
                    symbol=self.symbol,
                    side=Side.BUY if signal.action is Action.BUY else Side.SELL,
                    qty=signal.qty,
                    order_type=signal.order_type,
                    time_in_force=signal.time_in_force,
                    limit_price=signal.limit_price,
                    stop_price=signal.stop_price,
                    take_profit=signal.take_profit,
                    stop_loss=signal.stop_loss,
                )
                return self.protection.entry_request(entry, self.position.qty)
            case Action.REBALANCE:
                raise AssertionError("the router expands a rebalance into targets")
            case _:
                assert_never(signal.action)

    def _plain(self, signal: Signal, leg: str, side: Side, qty: Decimal) -> OrderRequest:
        return OrderRequest(
            client_order_id=client_order_id_for(signal.id, leg),
            symbol=self.symbol,
            side=side,
            qty=qty,
            time_in_force=signal.time_in_force,
        )

    def _on_resend(self, request: OrderRequest, wall: datetime, out: list[Effect]) -> None:
        if self.order(request.client_order_id) is not None:
            return
        order = TrackedOrder(request)
        self._live[request.client_order_id] = order
        order.move(State.SENDING, "resent at startup: the venue never received it")
        out.append(Journal((_state_record(self.symbol, order, wall),)))
        out.append(Submit(request))

    # --- risk --------------------------------------------------------------------------

    def _on_approved(self, msg: Approved, wall: datetime, out: list[Effect]) -> None:
        job = self._job
        if job is None or job.client_order_id != msg.client_order_id or job.phase is not Phase.RISK:
            return
        order = self._live[msg.client_order_id]
        job.phase = Phase.ORDER
        order.move(State.SENDING)
        if job.signal.action in (Action.BUY, Action.SELL):
            levels = (job.signal.take_profit, job.signal.stop_loss)
            self.protection.entry_sent(job.signal.id, order.request, levels)
        intent = IntentRecorded(
            at=wall,
            signal_id=job.signal.id,
            leg=order.client_order_id.rsplit("-", 1)[-1],
            request=order.request,
        )
        # The intent's fsync overlaps the HTTP send: the id is deterministic, so a crash in
        # between is healed at startup by adopting the venue's order by client_order_id.
        sending = _state_record(self.symbol, order, wall)
        self._ack(job, wall, out, status="accepted", reason=None, extra=(intent, sending))
        out.append(Submit(order.request))

    def _on_denied(self, msg: Denied, wall: datetime, out: list[Effect]) -> None:
        job = self._job
        if job is None or job.client_order_id != msg.client_order_id:
            return
        order = self._live[msg.client_order_id]
        order.move(State.DENIED, f"{msg.code}: {msg.detail}")
        records: tuple[JournalRecord, ...] = (
            RiskDenied(
                at=wall,
                client_order_id=order.client_order_id,
                symbol=self.symbol,
                code=msg.code,
                detail=msg.detail,
            ),
            _state_record(self.symbol, order, wall),
        )
        self._ack(
            job,
            wall,
            out,
            status="rejected",
            reason=f"risk: {msg.code}: {msg.detail}",
            extra=records,
        )
        self._job = None

    # --- the venue's answers -----------------------------------------------------------

    def _on_submit_failed(
        self, msg: SubmitFailed, now: float, wall: datetime, out: list[Effect]
    ) -> None:
        order = self._live.get(msg.client_order_id)
        if order is None or order.state.is_final:
            return
        match msg.outcome:
            case "rejected":
                # Recorded as a rejection, never as a trade.
                order.move(State.REJECTED, msg.reason)
                out.append(Journal((_state_record(self.symbol, order, wall),)))
                out.append(Release(order.client_order_id))
            case "not_sent":
                if self._attempts(order.client_order_id) >= self.max_submit_attempts:
                    order.move(State.REJECTED, f"not sent after retries: {msg.reason}")
                    out.append(Journal((_state_record(self.symbol, order, wall),)))
                    out.append(Release(order.client_order_id))
                else:
                    self._move(order, State.UNKNOWN, wall, out)
                    self._schedule(order.client_order_id, now, "submit", msg.retry_after)
            case _:  # "unknown" or "duplicate_id": ask the venue before anything else
                order.move(State.UNKNOWN, msg.reason)
                out.append(Journal((_state_record(self.symbol, order, wall),)))
                out.append(Lookup(order.client_order_id))

    def _on_lookup(self, msg: LookupDone, now: float, wall: datetime, out: list[Effect]) -> None:
        order = self.order(msg.client_order_id)
        if order is None:
            return
        if msg.order is not None:
            update = OrderUpdate(event=OrderEvent.SNAPSHOT, order=msg.order, at=wall, source="rest")
            self._on_update(update, wall, out)
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
            records.append(
                PositionRecorded(
                    at=wall,
                    symbol=self.symbol,
                    qty=self.position.qty,
                    avg_entry_price=self.position.avg_entry_price,
                    realized_pnl=self.position.realized_pnl,
                )
            )
        if applied.changed:
            records.append(_state_record(self.symbol, order, wall))
        if records:
            out.append(Journal(tuple(records)))
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
            self.protection.leg_learned(parent, leg.client_order_id)
            out.append(Follow(leg.client_order_id))
        snapshot = OrderUpdate(event=OrderEvent.SNAPSHOT, order=leg, at=at, source="rest")
        self._on_update(snapshot, wall, out)

    # --- protection --------------------------------------------------------------------

    def _tend_protection(self, wall: datetime, out: list[Effect]) -> None:
        tending = self.protection.tend(self.order, self.position, wall)
        for order in tending.cancels:
            if order.state is not State.PENDING_CANCEL and order.venue_order_id:
                self._move(order, State.PENDING_CANCEL, wall, out)
                out.append(Cancel(order.client_order_id, order.venue_order_id))
        if tending.records:
            out.append(Journal(tuple(tending.records)))
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
            out.append(Journal((intent, _state_record(self.symbol, order, wall))))
            out.append(Submit(request))

    # --- progress ----------------------------------------------------------------------

    def _advance(self, wall: datetime, out: list[Effect]) -> None:
        """Finish the current job when its orders allow, then start the next."""
        while True:
            job = self._job
            if job is not None and not self._job_done(job):
                if job.phase is Phase.CANCELING:
                    # An order in flight when the cancels went out has landed since.
                    self._cancel_working(wall, out)
                return
            if job is not None and job.phase is Phase.CANCELING:
                job.phase = None
                self._request_order(job, wall, out)
                continue
            self._job = None
            if not self._queue:
                return
            self._start(self._queue.popleft(), wall, out)

    def _job_done(self, job: Job) -> bool:
        if job.phase is Phase.CANCELING:
            return all(o.state.is_final for o in self._live.values())
        if job.phase is not Phase.ORDER or job.client_order_id is None:
            return False
        order = self.order(job.client_order_id)
        if order is None:
            return True
        if order.state.is_final:
            # A filled entry with exits is done once the venue's answer has listed its
            # legs: a close started before that could miss them and leave them working.
            has_exits = order.request.take_profit is not None or order.request.stop_loss is not None
            return (
                not has_exits or not order.filled_qty or order.client_order_id in self._legs_known
            )
        # A resting order (limit, stop) works on its own; the next signal need not wait for
        # it. A market order settles in moments and the next signal may depend on its fill.
        resting = order.request.order_type is not OrderType.MARKET
        return resting and order.state in (State.ACCEPTED, State.PARTIALLY_FILLED)

    def _ack(
        self,
        job: Job,
        wall: datetime,
        out: list[Effect],
        *,
        status: AckStatus,
        reason: str | None,
        extra: tuple[JournalRecord, ...] = (),
    ) -> None:
        if job.reply is None:
            if extra:
                out.append(Journal(extra))
            return
        ack = Ack(id=job.signal.id, status=status, reason=reason)
        signal_record = SignalRecorded(
            at=wall,
            signal_id=job.signal.id,
            source="router",
            raw=_encode_signal(job.signal),
            status=status,
            reason=reason,
        )
        out.append(Journal((signal_record, *extra), ack=(job.reply, ack)))
        job.reply = None

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
            out.append(Journal((_state_record(self.symbol, order, wall),)))

    def _attempts(self, client_order_id: str) -> int:
        backoff = self._backoffs.get(client_order_id)
        return backoff.attempts if backoff else 0

    def _schedule(self, client_order_id: str, now: float, what: str, hint: float | None) -> None:
        backoff = self._backoffs.setdefault(client_order_id, Backoff())
        self._retries[client_order_id] = (now + backoff.next_delay(hint), backoff, what)


def _state_record(symbol: str, order: TrackedOrder, wall: datetime) -> OrderStateRecorded:
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


def _encode_signal(signal: Signal) -> str:
    return msgspec.json.encode(signal).decode()


__all__ = [
    "FINAL",
    "Alert",
    "AskRisk",
    "Cancel",
    "CancelFailed",
    "Effect",
    "ExecutorInput",
    "Follow",
    "Journal",
    "Lookup",
    "LookupDone",
    "LookupFailed",
    "Protection",
    "ProtectionFailurePolicy",
    "Release",
    "ResendIntent",
    "Submit",
    "SubmitAccepted",
    "SubmitFailed",
    "SymbolExecutor",
    "client_order_id_for",
    "is_own_client_order_id",
]
