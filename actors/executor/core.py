"""PerSymbolExecutor's pure core: one symbol's signals become the minimal correct orders.

The core takes messages with ``now`` (trio time, for deadlines) and ``wall`` (UTC, for
records) and returns effects; it never awaits. Its rules:

- a symbol's signals apply one at a time, in order; a signal that arrives while one is being
  worked waits in a queue and is acked ``accepted`` at once (or, with ``supersede_queued``,
  replaces the one already queued);
- a close or target is sized from the broker-confirmed position only, after the previous
  signal's orders are final; a close against a flat position sends nothing;
- an order across zero goes out as two legs, to zero then from zero (``executor_flip``);
- every order's ``client_order_id`` derives from the signal id and the leg, so a resend can
  never become a second order; after an uncertain outcome the order is looked up by that id,
  and resubmitted only when the venue says it never got it;
- the position's exits are the ``ProtectionKeeper``'s, tended after every input.

Layers below: ``executor_orders`` (venue answers, fills, retries), ``executor_guarded``
(exits), ``executor_risk_answers``, ``executor_known_legs`` (signals already worked); the
order a signal needs is ``executor_signals``'.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import assert_never

import attrs
import msgspec

from actors.executor.core_flip import (
    ZERO,
    incomplete,
    open_leg,
    refusal_to_split,
    signed_qty,
    splits,
    stopped_short,
    to_zero_leg,
)
from actors.executor.core_known_legs import KnownLegs
from actors.executor.core_outside_fills import OutsideFills
from actors.executor.core_signals import Job, Phase, finished, order_for, superseded
from actors.executor.effects import (
    Alert,
    AskRisk,
    CancelFailed,
    Effect,
    ExecutorInput,
    Lookup,
    LookupFailed,
    OrderLookedUp,
    RecordInJournal,
    SubmitAccepted,
    SubmitFailed,
)
from actors.messages import (
    REPLAY_SOURCE,
    Action,
    AdoptOutsideFill,
    Approved,
    Denied,
    ExecuteSignal,
    PriceSeen,
    ResendIntent,
    ResumeFlip,
)
from actors.order_state import State, TrackedOrder
from actors.records import (
    JournalRecord,
)
from brokers.base import OrderEvent, OrderRequest, OrderType, OrderUpdate, Side


@attrs.define
class SymbolExecutor(KnownLegs):
    _queue: deque[Job] = attrs.field(factory=deque)
    # "supersede": a newer signal replaces the one queued behind the one being worked.
    supersede_queued: bool = False
    # Fills of orders placed outside tradingd, taken into the position while running.
    outside: OutsideFills = attrs.field(factory=OutsideFills)

    # --- queries (the shell and tests read these) --------------------------------------

    @property
    def idle(self) -> bool:
        """Nothing to do until the venue or a signal says something: exits resting at the
        venue are the position's guard, not pending work."""
        if self._job is not None or self._queue or self.protection.pending:
            return False
        return all(self._resting_exit(o) for o in self.unresolved())

    @property
    def working(self) -> Job | None:
        """The job of the signal being worked now (not those queued behind it)."""
        return self._job

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
            case OrderLookedUp():
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
            case ResumeFlip():
                self._on_resume(msg, wall, out)
            case PriceSeen():
                self.protection.price_seen(msg.price)
            case AdoptOutsideFill():
                followed = self.order(msg.order.client_order_id) is not None
                out += self.outside.adopt(self.position, self.symbol, msg, wall, followed)
            case _:
                assert_never(msg)
        self._tend_protection(wall, out, self._sale_side())
        self._advance(wall, out)
        # Again: a sale that just ended (or a job that just began) changes what the exits
        # may do, and nothing else might come to say so.
        self._tend_protection(wall, out, self._sale_side())
        self._retire_final_orders()
        return out

    def _sale_side(self) -> Side | None:
        job = self._job
        if job is None or job.signal.action not in (Action.BUY, Action.SELL):
            return None
        return Side.BUY if job.signal.action is Action.BUY else Side.SELL

    # --- signals -----------------------------------------------------------------------

    def _on_signal(self, msg: ExecuteSignal, wall: datetime, out: list[Effect]) -> None:
        job = Job(msg.signal, msg.reply, msg.received_at, source=msg.source, raw=msg.raw)
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
        records: list[JournalRecord] = [superseded(job, newer, wall) for job in self._queue]
        records += [finished(job, wall, f"superseded by {newer}") for job in self._queue]
        out.append(RecordInJournal(tuple(records)))
        self._queue.clear()

    def _start(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        self._job = job
        if job.signal.action in (Action.CLOSE, Action.TARGET):
            # The exits go with the position they guard; canceled below with the rest.
            dropped = self.protection.drop(wall, f"dropped by {job.signal.action.value}")
            if dropped:
                out.append(RecordInJournal(tuple(dropped)))
            if self.unresolved():
                # Size from a settled position: cancel what still works (and let what is in
                # flight land) first.
                job.phase = Phase.CANCELING
                self._cancel_working(job.canceling, wall, out)
                return
        exits = self.protection.exits_in_the_way(job.signal, self.position.qty)
        if any(self._live.get(cid) for cid in exits):
            # A sale out of a protected position: the venue holds those shares for the
            # exits, so they end first; they are placed again for what is left.
            job.phase, job.canceling = Phase.CANCELING, frozenset(exits)
            self.protection.making_way_for_a_sale()
            self._cancel_working(job.canceling, wall, out)
            return
        self._request_order(job, wall, out)

    def _request_order(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        if self._worked_already(job, wall, out):
            return
        if self.protection.halted is not None and job.signal.action is not Action.CLOSE:
            reason = f"symbol halted: {self.protection.halted}; only close is accepted"
            extra = (finished(job, wall, reason),)
            self._ack(job, wall, out, status="rejected", reason=reason, extra=extra)
            self._job = None
            return
        request = order_for(job.signal, self.symbol, self.position)
        if not isinstance(request, str) and splits(job.signal, self.position.qty, request):
            refusal = refusal_to_split(request)
            if refusal is not None:
                self._ack(job, wall, out, status="rejected", reason=refusal)
                self._job = None
                return
            job.goal = self.position.qty + signed_qty(request.side, request.qty)
            request = to_zero_leg(request, self.position.qty, job.signal.id)
        if not isinstance(request, str):
            request = self.protection.entry_request(request, self.position.qty)
        if isinstance(request, str):
            extra = (finished(job, wall, request),)
            self._ack(job, wall, out, status="accepted", reason=request, extra=extra)
            self._job = None
            return
        sized = job.signal.qty is None and job.signal.action in (Action.BUY, Action.SELL)
        self._ask_risk(job, request, sized, wall, out)

    def _ask_risk(
        self, job: Job, request: OrderRequest, sized: bool, wall: datetime, out: list[Effect]
    ) -> None:
        job.phase = Phase.RISK
        job.client_order_id = request.client_order_id
        existing = self.order(request.client_order_id)
        if existing is not None:
            self._ack_existing(job, existing, wall, out)
            return
        job.sized_from = self.position.qty
        self._live[request.client_order_id] = TrackedOrder(request)
        out.append(AskRisk(request, self.position.qty, sized, job.signal.confidence, job.signal.id))

    def _open_from_zero(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        """The to-zero leg is final: open the rest from a flat position, or stop there."""
        assert job.goal is not None
        assert job.client_order_id is not None
        goal, job.goal = job.goal, None
        reason = None
        if self.position.qty != 0:
            # Sized from the confirmed position: the rest from anywhere but flat would
            # over-trade (or cross zero again).
            reason = stopped_short(self.order(job.client_order_id), self.position.qty, goal)
        elif self.protection.halted is not None:
            reason = f"the position is flat; symbol halted: {self.protection.halted}"
        if reason is not None:
            out.append(RecordInJournal((incomplete(job, reason, wall),)))
            out.append(Alert(f"signal {job.signal.id}: {reason}"))
            self._job = None
            return
        request = self.protection.entry_request(open_leg(job.signal, self.symbol, goal), ZERO)
        job.opening = True
        self._ask_risk(job, request, False, wall, out)

    def _on_resume(self, msg: ResumeFlip, wall: datetime, out: list[Effect]) -> None:
        """Pick a signal across zero up where a restart left it: waiting on its flat leg
        (adopted or resent just before, or final already)."""
        # Its line was journaled before the restart; the rows written from here on say so.
        resumed = msgspec.json.encode(msg.signal).decode()
        job = Job(
            msg.signal,
            None,
            wall,
            Phase.ORDER,
            msg.flat_leg,
            goal=msg.goal,
            source=REPLAY_SOURCE,
            raw=resumed,
        )
        if self._job is not None or self._queue:
            # Never at startup, where this comes first: refuse rather than guess an order.
            reason = "not resumed after a restart: the symbol was busy"
            out.append(RecordInJournal((incomplete(job, reason, wall),)))
            out.append(Alert(f"signal {msg.signal.id}: {reason}"))
            return
        self._job = job

    # --- progress ----------------------------------------------------------------------

    def _advance(self, wall: datetime, out: list[Effect]) -> None:
        """Finish the current job when its orders allow, then start the next."""
        while True:
            job = self._job
            if job is not None and not self._job_done(job):
                if job.phase is Phase.CANCELING:
                    # An order in flight when the cancels went out has landed since.
                    self._cancel_working(job.canceling, wall, out)
                return
            if job is not None and job.phase is Phase.CANCELING:
                job.phase = None
                self._request_order(job, wall, out)
                continue
            if job is not None and job.goal is not None:
                self._open_from_zero(job, wall, out)
                continue
            if job is not None:
                out.append(RecordInJournal((finished(job, wall, "its order is final or resting"),)))
            self._job = None
            if not self._queue:
                return
            self._start(self._queue.popleft(), wall, out)

    def _job_done(self, job: Job) -> bool:
        if job.phase is Phase.CANCELING:
            return all(
                o.state.is_final
                for o in self._live.values()
                if job.canceling is None or o.client_order_id in job.canceling
            )
        if job.phase is not Phase.ORDER or job.client_order_id is None:
            return False
        order = self.order(job.client_order_id)
        if order is None:
            return True
        if order.state.is_final:
            # A filled entry with exits is done once the venue's answer has listed its
            # legs: a close started before that could miss them and leave them working.
            return not self.awaits_legs(order)
        # A resting order (limit, stop) works on its own; the next signal need not wait for
        # it. A market order settles in moments and the next signal may depend on its fill.
        resting = order.request.order_type is not OrderType.MARKET
        return resting and order.state in (State.ACCEPTED, State.PARTIALLY_FILLED)
