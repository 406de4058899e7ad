"""What the actors write to the journal, and the sink they write it through.

The journal itself lives in ``daemon/`` (SQLite); actors only know ``JournalSink``.
``commit`` returns once the records are durable (``synchronous=FULL``); ``append``
returns at once and the records are committed with the next batch.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol

import msgspec

from brokers.base import OrderRequest, Side, VenueCall


class Record(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    at: datetime


class SignalRecorded(Record, frozen=True, kw_only=True, tag="signal"):
    """An input line and its ack: the dedupe key survives restarts through this."""

    signal_id: str | None
    source: str
    raw: str
    status: str
    reason: str | None = None


class SignalFinished(Record, frozen=True, kw_only=True, tag="signal_finished"):
    """A signal's work is over (orders final, no order needed, denied, superseded): a
    restart does not hand it to its executor again."""

    signal_id: str
    reason: str


class FailureStage(enum.Enum):
    """Where a signal's handling raised."""

    PARSE = "parse"  # the router reading the line
    ROUTE = "route"  # the router choosing its executor
    REBALANCE = "rebalance"  # planning a rebalance's targets
    EXECUTE = "execute"  # its symbol's executor
    RISK = "risk"  # RiskGuard deciding on its order
    REPLAY = "replay"  # startup reading it back from the journal to work it again


class SignalFailed(Record, frozen=True, kw_only=True, tag="signal_failed"):
    """A signal whose handling raised: quarantined. Startup never replays it and its id
    stays spent; ``tradingd signals --failed`` lists it until it is cleared."""

    signal_id: str
    stage: FailureStage
    error_type: str
    error: str  # the exception's message, bounded
    raw: str | None = None  # the line as received, when it is not journaled elsewhere


class SignalCleared(Record, frozen=True, kw_only=True, tag="signal_cleared"):
    """An operator resolved a failed signal (``tradingd signals clear ID``): it is never
    worked, and a resend of its id is still a duplicate."""

    signal_id: str


class IntentRecorded(Record, frozen=True, kw_only=True, tag="intent"):
    """An order tradingd is about to send; written before (or alongside) the HTTP call."""

    signal_id: str
    leg: str
    request: OrderRequest


class OrderStateRecorded(Record, frozen=True, kw_only=True, tag="order_state"):
    """A transition of tradingd's order state machine."""

    client_order_id: str
    symbol: str
    state: str
    venue_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    reason: str | None = None


class OrderFailure(enum.StrEnum):
    """Why an order ended refused when RiskGuard did not deny it (its denials carry
    RiskGuard's own reason codes, e.g. ``max_order_qty``)."""

    VENUE_REJECTED = "venue_rejected"  # the venue refused it
    NOT_SENT = "not_sent"  # the venue stayed out of reach through every retry
    CANNOT_CROSS_ZERO = "cannot_cross_zero"  # a resting order across zero: never half sent


class OrderRefused(Record, frozen=True, kw_only=True, tag="order_refused"):
    """An order ended denied or rejected: what it was and why, so the journal, the summary
    and ``tradingd orders`` can name them. A denied order never had an intent, so this is
    also where its signal, leg, side and quantity reach the journal."""

    client_order_id: str
    symbol: str
    state: Literal["denied", "rejected"]  # the final state it ended in
    signal_id: str | None  # None when the executor no longer knows it (the intent does)
    leg: str | None
    side: Side
    qty: Decimal | None  # None when nothing was sized (RiskGuard sizes a qty-less signal)
    code: str  # RiskGuard's reason code, or an OrderFailure value
    detail: str


class FillRecorded(Record, frozen=True, kw_only=True, tag="fill"):
    client_order_id: str
    symbol: str
    side: Side
    execution_id: str
    qty: Decimal
    price: Decimal


class PositionRecorded(Record, frozen=True, kw_only=True, tag="position"):
    """A symbol's confirmed position after a fill (or a reconciliation)."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal


class RiskDenied(Record, frozen=True, kw_only=True, tag="risk_denied"):
    client_order_id: str
    symbol: str
    code: str
    detail: str


# What tripped the runaway breaker: too many orders waiting for the rate limits, or too
# many signals offered a second for too long.
RunawayCause = Literal["backlog", "offered_rate"]


class RiskStateRecorded(Record, frozen=True, kw_only=True, tag="risk_state"):
    """RiskGuard's state that must survive a restart: the kill switch, the daily-loss
    latch, and the trading day with its start-of-day equity."""

    halted: bool
    latched: str | None = None
    trading_day: date | None = None
    start_equity: Decimal | None = None
    # The runaway breaker's latch: what tripped it (None: not tripped).
    runaway: RunawayCause | None = None


class ProtectionMode(enum.StrEnum):
    """How a position's exits are held."""

    NATIVE = "native"  # the venue's bracket legs
    OCO = "oco"  # a pair tradingd placed
    EMULATED = "emulated"  # a take-profit at the venue, the stop held by tradingd


class ProtectionPhase(enum.StrEnum):
    """Where a protection stands: only an armed one is re-armed at a restart."""

    ARMED = "armed"  # its exits guard the position
    WAITING = "waiting"  # nothing to guard yet: an entry still working may fill
    ENDED = "ended"  # done, stopped, failed, dropped or canceled: ``state`` says which


class ProtectionRecorded(Record, frozen=True, kw_only=True, tag="protection"):
    """The exits guarding a symbol's position: armed, replaced, failed, ended."""

    entry_client_order_id: str  # the entry that opened the position: the key
    symbol: str
    mode: ProtectionMode
    take_profit: Decimal | None
    stop_loss: Decimal | None
    phase: ProtectionPhase
    state: str  # for the operator: what happened ("armed for 5", "stopped at 95")
    signal_id: str = ""
    exit_side: Side = Side.SELL
    qty: Decimal = Decimal(0)  # what the entries filled: the most the exits cover
    exits: tuple[str, ...] = ()  # client ids of the exit orders at the venue
    generation: int = 0


class VenueCallRecorded(Record, frozen=True, kw_only=True, tag="venue_call"):
    call: VenueCall


class DriftRecorded(Record, frozen=True, kw_only=True, tag="drift"):
    """A confirmed difference between tradingd's position and the venue's, and its cause."""

    drift_id: int
    symbol: str
    journal_qty: Decimal
    venue_qty: Decimal
    notional: Decimal | None
    cause: str  # actors.reconciler.core_drift.Cause
    detail: str
    found_by: str  # startup | check | command


class CorrectionStatus(enum.StrEnum):
    """Where a correction stands: ``queued`` until it ends one of the other ways."""

    QUEUED = "queued"
    APPLIED = "applied"
    STALE = "stale"  # the venue's position moved since it was proposed: nothing done
    SUPERSEDED = "superseded"  # a newer drift of the same symbol replaced it
    FAILED = "failed"  # the trade-back signal was refused


class CorrectionRecorded(Record, frozen=True, kw_only=True, tag="correction"):
    """A correction of a drift, written again (same id) at every change of its status."""

    correction_id: int
    drift_id: int
    symbol: str
    cause: str
    remedy: str  # actors.reconciler.core_drift.Remedy
    journal_qty: Decimal  # tradingd's position when the drift was found
    venue_qty: Decimal
    target_qty: Decimal  # the position both agree on once it is done
    notional: Decimal | None
    status: CorrectionStatus
    signal_id: str | None = None
    detail: str | None = None


JournalRecord = (
    SignalRecorded
    | IntentRecorded
    | OrderStateRecorded
    | OrderRefused
    | FillRecorded
    | PositionRecorded
    | RiskDenied
    | RiskStateRecorded
    | VenueCallRecorded
    | DriftRecorded
    | CorrectionRecorded
    | ProtectionRecorded
    | SignalFinished
    | SignalFailed
    | SignalCleared
)


class JournalSink(Protocol):
    async def append(self, *records: JournalRecord) -> None:
        """Queue records for the next commit; returns at once."""
        ...

    async def commit(self, *records: JournalRecord) -> None:
        """Write records and return only once they are durable."""
        ...
