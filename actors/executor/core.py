"""PerSymbolExecutor's pure core: one symbol's signals become the minimal correct orders.

The core takes messages with ``now`` (trio time, for deadlines) and ``wall`` (UTC, for
records) and returns effects; it never awaits. Its rules:

- a symbol's signals apply one at a time, in order; a signal that arrives while one is being
  worked waits in a queue and is acked ``accepted`` at once (or, with ``supersede_queued``,
  replaces the one already queued);
- a close or target is sized from the broker-confirmed position only, after the previous
  signal's orders are final; a close against a flat position sends nothing;
- an order across zero goes out as two legs, to zero then from zero (``core_flip``);
- every order's ``client_order_id`` derives from the signal id and the leg, so a resend can
  never become a second order; after an uncertain outcome the order is looked up by that id,
  and resubmitted only when the venue says it never got it;
- the position's exits are the ``ProtectionKeeper``'s, tended after every input.

Its parts are fields, each with its own small API: the ``OrderBook`` (``order_book``: venue
answers, fills, retries), the ``ProtectionKeeper`` (``protection.keeper``: the exits, carried
out by ``guard``) and ``OutsideFills``; signals already worked are ``known_legs``', the order a
signal needs is ``core_signals``'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

import msgspec

from actors.executor.core_flip import (
    ZERO,
    incomplete,
    open_leg,
    refusal_to_split,
    splits,
    stopped_short,
    to_zero_leg,
)
from actors.executor.core_guard import carry_out, resting_exit
from actors.executor.core_halt import EntriesHalt
from actors.executor.core_known_legs import already_worked, known_leg
from actors.executor.core_order_book import OrderBook, Retry, refusal_record, state_record
from actors.executor.core_order_plan import Answer, AskFor, plan_order
from actors.executor.core_outside_fills import OutsideFills
from actors.executor.core_signals import Job, Phase, SignalQueue, ack_effects, finished
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
    Release,
    Submit,
    SubmitAccepted,
    SubmitFailed,
    reduces,
)
from actors.executor.protection.keeper import ProtectionKeeper
from actors.flips import signed_qty
from actors.ids import leg_of
from actors.messages import (
    REPLAY_SOURCE,
    AckStatus,
    Action,
    AdoptOutsideFill,
    Approved,
    CancelEntries,
    Denied,
    ExecuteSignal,
    PriceSeen,
    ResendIntent,
    ResumeFlip,
)
from actors.order_state import State, TrackedOrder
from actors.position import ConfirmedPosition
from actors.records import IntentRecorded, JournalRecord, OrderFailure, RiskDenied
from brokers.base import OrderEvent, OrderRequest, OrderType, OrderUpdate, Side, VenueOrder

if TYPE_CHECKING:
    from datetime import datetime


class SymbolExecutor:
    """One symbol's executor: its ``book`` follows every order, its ``protection`` keeps the
    position's exits, ``outside`` counts fills placed elsewhere; the signal being worked
    (and those queued behind it) are its own."""

    def __init__(
        self,
        symbol: str,
        position: ConfirmedPosition | None = None,
        *,
        protection: ProtectionKeeper | None = None,
        supersede_queued: bool = False,
        max_submit_attempts: int = 6,
    ) -> None:
        self.symbol = symbol
        self.book = OrderBook(symbol, position or ConfirmedPosition(), max_submit_attempts)
        # The exits guarding this symbol's position (bracket legs, or pairs placed for them).
        self.protection = protection or ProtectionKeeper(symbol)
        # Fills of orders placed outside tradingd, taken into the position while running.
        self.outside = OutsideFills()
        self.signals = SignalQueue(supersede_queued)
        # Signals that arrived since the last request to RiskGuard (its runaway breaker
        # counts what is offered, not only what it is asked).
        self._offered_since_ask = 0
        # The kill switch's cancels of working entries (exits stay).
        self.halt = EntriesHalt()

    # --- queries (the shell and tests read these) --------------------------------------

    @property
    def position(self) -> ConfirmedPosition:
        return self.book.position

    @property
    def max_submit_attempts(self) -> int:
        return self.book.max_submit_attempts

    @property
    def idle(self) -> bool:
        """Nothing to do until the venue or a signal says something: exits resting at the
        venue are the position's guard, not pending work."""
        if self.signals.busy or self.protection.pending:
            return False
        return all(self._resting_exit(o) for o in self.book.unresolved())

    @property
    def working(self) -> Job | None:
        """The job of the signal being worked now (not those queued behind it)."""
        return self.signals.working

    def order(self, client_order_id: str) -> TrackedOrder | None:
        return self.book.order(client_order_id)

    def orders(self) -> list[TrackedOrder]:
        return self.book.orders()

    def unresolved(self) -> list[TrackedOrder]:
        return self.book.unresolved()

    def awaiting_outcome(self) -> list[TrackedOrder]:
        """Orders whose end is still to come, the exits resting as the position's guard
        aside: what ``run --once`` and the unresolved count report."""
        return [o for o in self.book.unresolved() if not self._resting_exit(o)]

    def next_deadline(self) -> float:
        return self.book.next_deadline()

    def adopt(self, order: VenueOrder) -> None:
        """Take over an order the venue already holds (found at startup)."""
        self.book.adopt(order)

    def remember(self, order: VenueOrder) -> None:
        """Know a final order of ours the journal never recorded (found at startup)."""
        self.book.remember(order)

    # --- inputs ------------------------------------------------------------------------

    def on_timer(self, now: float, wall: datetime) -> list[Effect]:
        return self.book.on_timer(now, wall)

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
                self.book.apply_update(update, wall, out)
            case SubmitFailed():
                self.book.submit_failed(msg, now, wall, out)
            case OrderLookedUp():
                self.book.lookup_done(msg, now, wall, out)
            case LookupFailed():
                self.book.schedule(msg.client_order_id, now, Retry.LOOKUP, msg.retry_after)
            case CancelFailed():
                # The order lives on; a lookup says how it stands (it may have filled).
                out.append(Lookup(msg.client_order_id))
            case OrderUpdate():
                self.book.apply_update(msg, wall, out)
            case ResendIntent():
                self.book.resend(msg.request, wall, out)
            case ResumeFlip():
                self._on_resume(msg, wall, out)
            case PriceSeen():
                self.protection.price_seen(msg.price)
            case AdoptOutsideFill():
                followed = self.order(msg.order.client_order_id) is not None
                out += self.outside.adopt(self.position, self.symbol, msg, wall, followed)
            case CancelEntries():
                self.halt.start(self.book, self.protection, wall, out)
            case _:
                assert_never(msg)
        self.halt.tend(self.book, wall, out)
        for parent, leg in self.book.take_learned_legs():
            self.protection.leg_learned(parent, leg)
        self._tend_protection(wall, out)
        self._advance(wall, out)
        # Again: a sale that just ended (or a job that just began) changes what the exits
        # may do, and nothing else might come to say so.
        self._tend_protection(wall, out)
        self.book.retire_final_orders()
        return out

    def _resting_exit(self, order: TrackedOrder) -> bool:
        return resting_exit(self.protection.current, self.book, order)

    def _tend_protection(self, wall: datetime, out: list[Effect]) -> None:
        """Carry out what the exits need now (a sale not yet sent holds new exits back)."""
        book = self.book
        tending = self.protection.tend(
            book.order, book.position, wall, book.unresolved(), self._sale_side()
        )
        carry_out(tending, book, wall, out)

    def _cancel_working(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        """Cancel what ``job`` waits on (its ``canceling``, else every working order),
        journaled as that signal's."""
        why = f"canceled for {job.signal.action.value} signal {job.signal.id}"
        self.book.cancel_working(job.canceling, self.protection.parent_of, wall, out, why)

    def _sale_side(self) -> Side | None:
        job = self.signals.working
        if job is None or job.signal.action not in (Action.BUY, Action.SELL):
            return None
        return Side.BUY if job.signal.action is Action.BUY else Side.SELL

    # --- signals -----------------------------------------------------------------------

    def _on_signal(self, msg: ExecuteSignal, wall: datetime, out: list[Effect]) -> None:
        job = Job(msg.signal, msg.reply, msg.received_at, source=msg.source, raw=msg.raw)
        self._offered_since_ask += 1
        if self.signals.busy:
            out += self.signals.wait(job, wall)
        else:
            self._start(job, wall, out)

    def _start(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        self.signals.working = job
        if job.signal.action in (Action.CLOSE, Action.TARGET):
            # The exits go with the position they guard; canceled below with the rest.
            why = f"dropped by {job.signal.action.value} signal {job.signal.id}"
            dropped = self.protection.drop(wall, why)
            if dropped:
                out.append(RecordInJournal(tuple(dropped)))
            if self.book.unresolved():
                # Size from a settled position: cancel what still works (and let what is in
                # flight land) first.
                job.phase = Phase.CANCELING
                self._cancel_working(job, wall, out)
                return
        exits = self.protection.exits_in_the_way(job.signal, self.position.qty)
        if any(self.book.live(cid) for cid in exits):
            # A sale out of a protected position: the venue holds those shares for the
            # exits, so they end first; they are placed again for what is left.
            job.phase, job.canceling = Phase.CANCELING, frozenset(exits)
            self.protection.making_way_for_a_sale()
            self._cancel_working(job, wall, out)
            return
        self._request_order(job, wall, out)

    def _request_order(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        existing = known_leg(job, self.book)
        if existing is not None:
            self._ack_existing(job, existing, wall, out)
            return
        plan = plan_order(job, self.symbol, self.position, self.protection)
        match plan:
            case Answer(status=status, reason=reason, finish=finish):
                extra = (finished(job, wall, reason),) if finish else ()
                self._ack(job, wall, out, status=status, reason=reason, extra=extra)
                self.signals.working = None
            case AskFor(request=request, sized=sized, goal=goal):
                if goal is not None:
                    job.goal = goal
                self._ask_risk(job, request, sized, wall, out)
            case _:
                assert_never(plan)

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
        self.book.track(request)
        # RiskGuard quarantines the signal if deciding raises; not an open leg's, whose flat
        # leg traded already (a resend with a new id would trade that part twice).
        quarantinable = None if job.opening else job.signal.id
        derived = (
            job.opening
            or job.goal is not None
            or job.signal.action in (Action.CLOSE, Action.TARGET)
        )
        offered, self._offered_since_ask = self._offered_since_ask, 0
        out.append(
            AskRisk(
                request,
                self.position.qty,
                sized,
                job.signal.confidence,
                quarantinable,
                position_derived=derived,
                waiting=self.signals.waiting,
                offered=offered,
            )
        )

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
            self.signals.working = None
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
        if self.signals.busy:
            # Never at startup, where this comes first: refuse rather than guess an order.
            reason = "not resumed after a restart: the symbol was busy"
            out.append(RecordInJournal((incomplete(job, reason, wall),)))
            out.append(Alert(f"signal {msg.signal.id}: {reason}"))
            return
        self.signals.working = job

    # --- RiskGuard's answers ----------------------------------------------------------

    def _on_approved(self, msg: Approved, wall: datetime, out: list[Effect]) -> None:
        job = self.signals.working
        if job is None or job.client_order_id != msg.client_order_id or job.phase is not Phase.RISK:
            return
        order = self._tracked(msg.client_order_id)
        sized_by_position = job.opening or job.signal.action in (Action.CLOSE, Action.TARGET)
        moved = job.sized_from is not None and self.position.qty != job.sized_from
        # An order over the rate waits for its approval: a position that moved meanwhile may
        # have turned an exit into an entry (or back), which RiskGuard decided otherwise.
        turned = moved and reduces(order.request, job.sized_from or ZERO) != reduces(
            order.request, self.position.qty
        )
        if (sized_by_position and moved) or turned:
            self._sized_from_a_stale_position(job, order, wall, out)
            return
        if msg.qty is not None and msg.qty != order.request.qty:
            # RiskGuard sized it: the size it checked is the size sent.
            order.request = msgspec.structs.replace(order.request, qty=msg.qty)
            crosses = not job.opening and splits(job.signal, self.position.qty, order.request)
            # Split past the position: the first leg goes out here, or nothing (then stop).
            if crosses and not self._split_sized(job, order, wall, out):
                return
        job.phase = Phase.ORDER
        sending = self.book.send(order, wall)
        if job.signal.action in (Action.BUY, Action.SELL):
            # The to-zero leg of an order across zero opens nothing: the exits ride on the
            # open leg.
            levels = (job.signal.take_profit, job.signal.stop_loss)
            if job.goal is not None:
                levels = (None, None)
            self.protection.entry_sent(job.signal.id, order.request, levels)
        intent = IntentRecorded(
            at=wall,
            signal_id=job.signal.id,
            leg=leg_of(order.client_order_id) or "",  # its own id: one always names its leg
            request=order.request,
        )
        # The intent's fsync overlaps the HTTP send: the id is deterministic, so a crash in
        # between is healed at startup by adopting the venue's order by client_order_id.
        self._ack(job, wall, out, status="accepted", reason=None, extra=(intent, sending))
        out.append(Submit.of(order.request, self.position.qty))

    def _sized_from_a_stale_position(
        self, job: Job, order: TrackedOrder, wall: datetime, out: list[Effect]
    ) -> None:
        """The position moved while RiskGuard decided (a late fill of a canceled order, a
        fill from outside): an order sized from the old one would over-trade, even cross
        zero. It never goes out; the signal is sized again, or stops if it was the open leg
        of an order across zero (from anywhere but flat it would over-trade)."""
        out.append(Release(order.client_order_id))
        self.book.forget(order.client_order_id)
        if job.opening:
            reason = (
                f"the position moved to {self.position.qty} before the open leg went out; "
                "it is not sent"
            )
            records = (finished(job, wall, reason), incomplete(job, reason, wall))
            out.append(RecordInJournal(records))
            out.append(Alert(f"signal {job.signal.id}: {reason}"))
            self.signals.working = None
            return
        job.phase, job.client_order_id, job.goal, job.sized_from = None, None, None, None
        self._start(job, wall, out)

    def _split_sized(
        self, job: Job, order: TrackedOrder, wall: datetime, out: list[Effect]
    ) -> bool:
        """RiskGuard sized a buy or sell past the position: send it as two legs (False: it
        is refused instead, its reservation given back)."""
        refusal = refusal_to_split(order.request)
        if refusal is not None:
            order.move(State.DENIED, refusal)
            code = OrderFailure.CANNOT_CROSS_ZERO
            records = (
                state_record(self.symbol, order, wall),
                refusal_record(self.symbol, order, wall, code, refusal, job.signal.id),
            )
            self._ack(job, wall, out, status="rejected", reason=refusal, extra=records)
            out.append(Release(order.client_order_id))
            self.signals.working = None
            return False
        held = self.position.qty
        job.goal = held + signed_qty(order.request.side, order.request.qty)
        order.request = to_zero_leg(order.request, held)
        return True

    def _on_denied(self, msg: Denied, wall: datetime, out: list[Effect]) -> None:
        job = self.signals.working
        if job is None or job.client_order_id != msg.client_order_id or job.phase is not Phase.RISK:
            return  # not (or no longer) waiting on RiskGuard: its order may be out already
        order = self._tracked(msg.client_order_id)
        order.move(State.DENIED, f"{msg.code}: {msg.detail}")
        records: tuple[JournalRecord, ...] = (
            RiskDenied(
                at=wall,
                client_order_id=order.client_order_id,
                symbol=self.symbol,
                code=msg.code,
                detail=msg.detail,
            ),
            state_record(self.symbol, order, wall),
            refusal_record(self.symbol, order, wall, msg.code, msg.detail, job.signal.id),
            finished(job, wall, f"denied: {msg.code}"),
        )
        if job.opening:
            # Acked when its to-zero leg went out: the journal says why it stopped flat.
            reason = f"the position is flat; the open leg was denied: {msg.code}: {msg.detail}"
            records = (*records, incomplete(job, reason, wall))
        self._ack(
            job,
            wall,
            out,
            status="rejected",
            reason=f"risk: {msg.code}: {msg.detail}",
            extra=records,
        )
        self.signals.working = None
        self._guard_again(job, out)

    def _guard_again(self, job: Job, out: list[Effect]) -> None:
        """A close or target that dropped the position's exits ended without trading: a
        position must not be left without its stop by an order that never went out."""
        if job.signal.action not in (Action.CLOSE, Action.TARGET):
            return
        if self.protection.take_back(self.position.qty):
            out.append(
                Alert(
                    f"{self.symbol}: {job.signal.action.value} signal {job.signal.id} did not "
                    "trade: the exits it canceled are placed again"
                )
            )

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
        out.extend(ack_effects(job, wall, status=status, reason=reason, extra=extra))

    def _ack_existing(
        self, job: Job, existing: TrackedOrder, wall: datetime, out: list[Effect]
    ) -> None:
        """A signal whose order (any leg) is known already: acked duplicate, never resent."""
        records, alert = already_worked(job, existing, wall)
        if alert is not None:
            out.append(Alert(alert))
        self._ack(job, wall, out, status="duplicate", reason="order already exists", extra=records)
        self.signals.working = None

    def _tracked(self, client_order_id: str) -> TrackedOrder:
        """The order of the job being worked: tracked since it went to RiskGuard."""
        order = self.book.live(client_order_id)
        assert order is not None, f"order {client_order_id} of the working job is not tracked"
        return order

    # --- progress ----------------------------------------------------------------------

    def _advance(self, wall: datetime, out: list[Effect]) -> None:
        """Finish the current job when its orders allow, then start the next."""
        while True:
            job = self.signals.working
            if job is not None and not self._job_done(job):
                if job.phase is Phase.CANCELING:
                    # An order in flight when the cancels went out has landed since.
                    self._cancel_working(job, wall, out)
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
                order = None if job.client_order_id is None else self.order(job.client_order_id)
                if order is not None and order.state.is_final and order.filled_qty == 0:
                    self._guard_again(job, out)  # refused by the venue, or never sent
            self.signals.working = None
            queued = self.signals.next()
            if queued is None:
                return
            self._start(queued, wall, out)

    def _job_done(self, job: Job) -> bool:
        if job.phase is Phase.CANCELING:
            canceling = job.canceling
            return all(
                o.state.is_final
                for o in self.book.unresolved()
                if canceling is None or o.client_order_id in canceling
            )
        if job.phase is not Phase.ORDER or job.client_order_id is None:
            return False
        order = self.order(job.client_order_id)
        if order is None:
            return True
        if order.state.is_final:
            # A filled entry with exits is done once the venue's answer has listed its
            # legs: a close started before that could miss them and leave them working.
            return not self.book.awaits_legs(order)
        # A resting order (limit, stop) works on its own; the next signal need not wait for
        # it. A market order settles in moments and the next signal may depend on its fill.
        resting = order.request.order_type is not OrderType.MARKET
        return resting and order.state in (State.ACCEPTED, State.PARTIALLY_FILLED)
