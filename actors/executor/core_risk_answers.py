"""RiskGuard's answers to the signal being worked: the executor core's risk half. Pure.

An approved order goes out (its intent journaled first, its exits told to the
``ProtectionKeeper``); RiskGuard may have sized it, past the position: then it goes as two
legs, or is refused. A denied order ends its signal. ``executor_core.SymbolExecutor`` adds
the signals themselves on top.
"""

from __future__ import annotations

from datetime import datetime

import attrs
import msgspec

from actors.executor.core_flip import incomplete, refusal_to_split, signed_qty, splits, to_zero_leg
from actors.executor.core_guarded import GuardedOrders
from actors.executor.core_orders import state_record
from actors.executor.core_signals import Job, Phase, ack_effects, finished
from actors.executor.effects import Alert, Effect, RecordInJournal, Release, Submit
from actors.ids import leg_of
from actors.messages import AckStatus, Action, Approved, Denied
from actors.order_state import State, TrackedOrder
from actors.records import IntentRecorded, JournalRecord, RiskDenied


@attrs.define
class RiskAnswers(GuardedOrders):
    # The signal being worked, or None.
    _job: Job | None = None

    def _on_approved(self, msg: Approved, wall: datetime, out: list[Effect]) -> None:
        job = self._job
        if job is None or job.client_order_id != msg.client_order_id or job.phase is not Phase.RISK:
            return
        order = self._live[msg.client_order_id]
        sized_by_position = job.opening or job.signal.action in (Action.CLOSE, Action.TARGET)
        if sized_by_position and self.position.qty != job.sized_from:
            self._sized_from_a_stale_position(job, order, wall, out)
            return
        if msg.qty is not None and msg.qty != order.request.qty:
            # RiskGuard sized it: the size it checked is the size sent.
            order.request = msgspec.structs.replace(order.request, qty=msg.qty)
            if not job.opening and splits(job.signal, self.position.qty, order.request):
                if not self._split_sized(job, order, wall, out):
                    return
        job.phase = Phase.ORDER
        order.move(State.SENDING)
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
        sending = state_record(self.symbol, order, wall)
        self._ack(job, wall, out, status="accepted", reason=None, extra=(intent, sending))
        out.append(Submit(order.request))

    def _start(self, job: Job, wall: datetime, out: list[Effect]) -> None:
        raise NotImplementedError  # the executor core's: how a signal's work begins

    def _sized_from_a_stale_position(
        self, job: Job, order: TrackedOrder, wall: datetime, out: list[Effect]
    ) -> None:
        """The position moved while RiskGuard decided (a late fill of a canceled order, a
        fill from outside): an order sized from the old one would over-trade, even cross
        zero. It never goes out; the signal is sized again, or stops if it was the open leg
        of an order across zero (from anywhere but flat it would over-trade)."""
        out.append(Release(order.client_order_id))
        del self._live[order.client_order_id]
        if job.opening:
            reason = (
                f"the position moved to {self.position.qty} before the open leg went out; "
                "it is not sent"
            )
            records = (finished(job, wall, reason), incomplete(job, reason, wall))
            out.append(RecordInJournal(records))
            out.append(Alert(f"signal {job.signal.id}: {reason}"))
            self._job = None
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
            record = state_record(self.symbol, order, wall)
            self._ack(job, wall, out, status="rejected", reason=refusal, extra=(record,))
            out.append(Release(order.client_order_id))
            self._job = None
            return False
        held = self.position.qty
        job.goal = held + signed_qty(order.request.side, order.request.qty)
        order.request = to_zero_leg(order.request, held)
        return True

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
            state_record(self.symbol, order, wall),
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
        self._job = None

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
