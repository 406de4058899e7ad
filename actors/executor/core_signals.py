"""A signal's side of the executor: the job it becomes, its ack, and the order it needs. Pure.

A close is sized from the confirmed position (flat: no order, and the reason says so); a
target trades only the difference; a buy or sell is the entry the signal describes, its
exits riding along as the venue's bracket legs.
"""

from __future__ import annotations

import enum
from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, assert_never

import attrs

from actors.executor.effects import Effect, RecordInJournal
from actors.ids import client_order_id_for
from actors.messages import Ack, AckStatus, Action, Signal, order_side_for_delta
from actors.records import JournalRecord, SignalFinished, SignalRecorded
from brokers.base import OrderRequest, Side

if TYPE_CHECKING:
    from datetime import datetime

    import trio

    from actors.position import ConfirmedPosition


class Phase(enum.Enum):
    RISK = "risk"  # waiting for RiskGuard
    ORDER = "order"  # the signal's order is being sent or worked
    CANCELING = "canceling"  # waiting for working orders to be canceled (close, target)


@attrs.define
class Job:
    signal: Signal
    reply: trio.MemorySendChannel[Ack] | None  # None once acked
    received_at: datetime
    phase: Phase | None = None
    # Who sent the signal and the line as received: each journal row of it names both.
    source: str = attrs.field(kw_only=True)
    raw: str = attrs.field(kw_only=True)
    client_order_id: str | None = None
    # While CANCELING: the orders to end first (None: every working order).
    canceling: frozenset[str] | None = None
    # While the to-zero leg of an order across zero works: the position the signal ends at
    # (its open leg goes out once that leg is final and the position is flat).
    goal: Decimal | None = None
    # The order being worked is the open leg of an order across zero.
    opening: bool = False
    # The confirmed position its order was sized from, when it went to RiskGuard.
    sized_from: Decimal | None = None


@attrs.define
class SignalQueue:
    """The signal being worked and those waiting behind it, in arrival order."""

    # A newer signal replaces the ones queued behind the one being worked.
    supersede_queued: bool = False
    working: Job | None = None
    _waiting: deque[Job] = attrs.field(factory=deque)

    @property
    def busy(self) -> bool:
        return self.working is not None or bool(self._waiting)

    @property
    def waiting(self) -> int:
        """How many signals wait behind the one being worked."""
        return len(self._waiting)

    def wait(self, job: Job, wall: datetime) -> list[Effect]:
        """Queue ``job``; it is acked ``accepted`` now, durably, so no source ever waits on
        another signal's orders. Superseded signals are journaled as such (their ids stay
        spent: a resend still acks duplicate)."""
        out: list[Effect] = []
        reason = "queued behind an earlier signal"
        if self.supersede_queued and self._waiting:
            newer = job.signal.id
            replaced = ", ".join(j.signal.id for j in self._waiting)
            records: list[JournalRecord] = [superseded(j, newer, wall) for j in self._waiting]
            records += [finished(j, wall, f"superseded by {newer}") for j in self._waiting]
            out.append(RecordInJournal(tuple(records)))
            self._waiting.clear()
            reason = f"queued, superseding {replaced}"
        out += ack_effects(job, wall, status="accepted", reason=reason)
        self._waiting.append(job)
        return out

    def next(self) -> Job | None:
        """The job waiting longest, taken off the queue (None: nothing waits)."""
        return self._waiting.popleft() if self._waiting else None


def ack_effects(
    job: Job,
    wall: datetime,
    *,
    status: AckStatus,
    reason: str | None,
    extra: tuple[JournalRecord, ...] = (),
) -> list[Effect]:
    """The signal's ack, sent only once it is journaled with ``extra`` (once per job)."""
    if job.reply is None:
        return [RecordInJournal(extra)] if extra else []
    ack = Ack(id=job.signal.id, status=status, reason=reason)
    signal_record = SignalRecorded(
        at=wall,
        signal_id=job.signal.id,
        source=job.source,
        raw=job.raw,
        status=status,
        reason=reason,
    )
    reply, job.reply = job.reply, None
    return [RecordInJournal((signal_record, *extra), ack=(reply, ack))]


def superseded(job: Job, newer: str, wall: datetime) -> SignalRecorded:
    """A queued signal replaced by a newer one: acked at once, so the journal says why it
    never traded (its id stays spent: a resend still acks duplicate)."""
    return SignalRecorded(
        at=wall,
        signal_id=job.signal.id,
        source=job.source,
        raw=job.raw,
        status="superseded",
        reason=f"superseded by {newer}",
    )


def finished(job: Job, wall: datetime, reason: str) -> SignalFinished:
    """The job's work is over: a restart must not hand its signal to the executor again."""
    return SignalFinished(at=wall, signal_id=job.signal.id, reason=reason)


def order_for(signal: Signal, symbol: str, position: ConfirmedPosition) -> OrderRequest | str:
    """The order a signal needs now, or the reason it needs none."""
    position_qty = position.qty
    match signal.action:
        case Action.CLOSE:
            close = position.close_order()
            if close is None:
                return "no order: position is flat"
            side, qty = close
            return _plain(signal, symbol, "close", side, qty)
        case Action.TARGET:
            assert signal.target_qty is not None
            delta = signal.target_qty - position_qty
            if delta == 0:
                return f"no order: position is already {position_qty}"
            return _plain(signal, symbol, "target", order_side_for_delta(delta), abs(delta))
        case Action.BUY | Action.SELL:
            return OrderRequest(
                client_order_id=client_order_id_for(signal.id, "entry"),
                symbol=symbol,
                side=Side.BUY if signal.action is Action.BUY else Side.SELL,
                qty=signal.qty if signal.qty is not None else Decimal(0),
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


def _plain(signal: Signal, symbol: str, leg: str, side: Side, qty: Decimal) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id_for(signal.id, leg),
        symbol=symbol,
        side=side,
        qty=qty,
        time_in_force=signal.time_in_force,
    )
