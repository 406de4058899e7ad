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
import hashlib
from collections import OrderedDict, deque
from datetime import datetime
from decimal import Decimal
from typing import Any, assert_never

import attrs
import msgspec

from actors.messages import (
    Ack,
    AckStatus,
    Action,
    Approved,
    Denied,
    ExecuteSignal,
    Message,
    Signal,
    order_side_for_delta,
)
from actors.order_state import FINAL, State, TrackedOrder, state_of
from actors.position import ConfirmedPosition
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


def client_order_id_for(signal_id: str, leg: str) -> str:
    """Deterministic, venue-safe (≤ 48 chars) id for one leg of one signal."""
    digest = hashlib.sha256(f"{signal_id}\x00{leg}".encode()).hexdigest()[:32]
    return f"{_PREFIX}{digest}-{leg}"[:48]


_PREFIX = "td-"


def is_own_client_order_id(client_order_id: str) -> bool:
    """True for ids tradingd derives; anything else at the venue was placed elsewhere."""
    return client_order_id.startswith(_PREFIX)


# --- inputs the shell feeds back ------------------------------------------------------


class SubmitAccepted(Message, frozen=True, kw_only=True, tag="submit_accepted"):
    order: VenueOrder


class SubmitFailed(Message, frozen=True, kw_only=True, tag="submit_failed"):
    client_order_id: str
    # rejected: the venue refused it (final); not_sent: it never reached the venue;
    # unknown: it may have arrived; duplicate_id: the venue already has this id.
    outcome: str
    reason: str
    retry_after: float | None = None


class LookupDone(Message, frozen=True, kw_only=True, tag="lookup_done"):
    client_order_id: str
    order: VenueOrder | None  # None: the venue never received it


class LookupFailed(Message, frozen=True, kw_only=True, tag="lookup_failed"):
    client_order_id: str
    reason: str
    retry_after: float | None = None


class ResendIntent(Message, frozen=True, kw_only=True, tag="resend_intent"):
    """An intent journaled before a crash that the venue never received (found at startup):
    approved then, acked then, so it is sent now without asking again."""

    request: OrderRequest


class CancelFailed(Message, frozen=True, kw_only=True, tag="cancel_failed"):
    client_order_id: str
    reason: str


ExecutorInput = (
    ExecuteSignal
    | Approved
    | Denied
    | SubmitAccepted
    | SubmitFailed
    | LookupDone
    | LookupFailed
    | CancelFailed
    | ResendIntent
    | OrderUpdate
)


# --- effects the shell carries out ------------------------------------------------------


@attrs.frozen
class AskRisk:
    request: OrderRequest
    position_qty: Decimal


@attrs.frozen
class Submit:
    request: OrderRequest


@attrs.frozen
class Lookup:
    client_order_id: str


@attrs.frozen
class Cancel:
    client_order_id: str
    venue_order_id: str


@attrs.frozen
class Release:
    """Give the order's buying-power reservation back: it ended without a venue event."""

    client_order_id: str


@attrs.frozen
class Journal:
    """Records to write; with ``ack``, the ack is sent only after they are durable."""

    records: tuple[JournalRecord, ...]
    ack: tuple[Any, Ack] | None = None


Effect = AskRisk | Submit | Lookup | Cancel | Release | Journal


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

    # --- queries (the shell and tests read these) --------------------------------------

    @property
    def idle(self) -> bool:
        return self._job is None and not self._queue and not self.unresolved()

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
        request = OrderRequest(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=order.qty,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
        )
        tracked = TrackedOrder(
            request,
            state=State.PARTIALLY_FILLED if order.filled_qty else State.ACCEPTED,
            venue_order_id=order.venue_order_id,
            filled_qty=order.filled_qty,
            avg_fill_price=order.filled_avg_price,
        )
        self._live[order.client_order_id] = tracked

    def remember(self, order: VenueOrder) -> None:
        """Know a final order of ours the journal never recorded (found at startup), so the
        signal that made it, fed again, is a duplicate instead of a second order whose fills
        would count twice: they are already in the venue position this executor starts from.
        """
        self.adopt(order)
        tracked = self._live.pop(order.client_order_id)
        tracked.state = state_of(order.status)
        self._final[order.client_order_id] = tracked

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
            # Ack now, durably, so no source ever waits on another signal's orders.
            self._ack(job, wall, out, status="accepted", reason="queued behind an earlier signal")
            self._queue.append(job)
            return
        self._start(job, wall, out)

    def _start(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        self._job = job
        unsettled = self.unresolved()
        if job.signal.action in (Action.CLOSE, Action.TARGET) and unsettled:
            # Size from a settled position: cancel what still works (and let what is in
            # flight land) first.
            job.phase = Phase.CANCELING
            for order in unsettled:
                if order.state is not State.PENDING_CANCEL and order.venue_order_id:
                    self._move(order, State.PENDING_CANCEL, wall, out)
                    out.append(Cancel(order.client_order_id, order.venue_order_id))
            return
        self._request_order(job, wall, out)

    def _request_order(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        request = self._order_for(job.signal)
        if isinstance(request, str):
            self._ack(job, wall, out, status="accepted", reason=request)
            self._job = None
            return
        job.phase = Phase.RISK
        job.client_order_id = request.client_order_id
        existing = self.order(request.client_order_id)
        if existing is not None:
            # Past the router's dedupe only when the signal's ack was lost in a crash after
            # its order went out (found at startup): never resend. The intent names the
            # signal on the order's row, so the next restart's dedupe knows it.
            intent = IntentRecorded(
                at=wall,
                signal_id=job.signal.id,
                leg=request.client_order_id.rsplit("-", 1)[-1],
                request=existing.request,
            )
            self._ack(
                job, wall, out, status="duplicate", reason="order already exists", extra=(intent,)
            )
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
                return OrderRequest(
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

    # --- progress ----------------------------------------------------------------------

    def _advance(self, wall: datetime, out: list[Effect]) -> None:
        """Finish the current job when its orders allow, then start the next."""
        while True:
            job = self._job
            if job is not None and not self._job_done(job):
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
        if order is None or order.state.is_final:
            return True
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


__all__ = ["FINAL", "SymbolExecutor", "client_order_id_for"]
