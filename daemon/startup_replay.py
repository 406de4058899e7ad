"""Startup's replay of signals accepted before a crash and never worked.

A signal acked "accepted" while queued behind another has no order yet; if the daemon dies
before its executor starts it, only the journal remembers it. Startup reads those from the
journal and the SignalRouter hands them out again (``run_signal_router``'s ``replay``),
before the gate opens and before any new signal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import trio

from actors.messages import Signal
from actors.prices import PriceBook
from actors.records import JournalRecord, SignalFinished, SignalRecorded
from actors.signal_replay import signals_to_replay
from brokers.base import utc_now
from daemon.holding_intake import hold_age
from daemon.journal import Journal
from daemon.journal_signals import UnfinishedSignal

log = logging.getLogger("tradingd")


async def wait_priced(prices: PriceBook, symbols: frozenset[str]) -> None:
    """Return once each symbol has had a price (a rebalance replayed at startup)."""
    for symbol in sorted(symbols):
        await prices.wait_for(symbol)


async def unfinished_signals(
    journal: Journal,
    *,
    sized_entries: bool,
    max_hold: float | None = None,
    held_at: Mapping[str, float] | None = None,
) -> tuple[Signal, ...]:
    """Signals acked "accepted" whose work never started (queued behind another before a
    crash, or held while the startup gate waited): the router hands them out again before
    any new one. A held one older than ``max_hold`` seconds is finished ``expired``."""
    unfinished = await journal.unfinished_signals()
    if max_hold is not None:
        unfinished, expired = _split_expired(
            unfinished, max_hold, held_at or {}, now=trio.current_time(), wall=utc_now()
        )
        if expired:
            await journal.commit(*expired)
    replay = signals_to_replay(
        ((row.signal_id, row.raw) for row in unfinished),
        sized_entries=sized_entries,
        wall=utc_now(),
    )
    for record in replay.unreadable:
        log.error("signal %s, accepted before the restart: %s", record.signal_id, record.reason)
    if replay.unreadable:
        await journal.commit(*replay.unreadable)
    if replay.signals:
        log.warning(
            "%d signals accepted before the restart were never worked; replaying them: %s",
            len(replay.signals),
            ", ".join(signal.id for signal in replay.signals),
        )
    return replay.signals


def _split_expired(
    unfinished: list[UnfinishedSignal],
    max_hold: float,
    held_at: Mapping[str, float],
    *,
    now: float,
    wall: datetime,
) -> tuple[list[UnfinishedSignal], list[JournalRecord]]:
    """The signals still to work, and the records that finish each held one past max_hold."""
    keep: list[UnfinishedSignal] = []
    records: list[JournalRecord] = []
    for row in unfinished:
        age = hold_age(row.signal_id, row.accepted_at, held_at, now=now, wall=wall)
        if not row.held or age <= max_hold:
            keep.append(row)
            continue
        reason = f"expired: held {age:.0f} s until ready, longer than max_hold {max_hold:g} s"
        log.warning("signal %s never traded: %s", row.signal_id, reason)
        records.append(
            SignalRecorded(
                at=wall,
                signal_id=row.signal_id,
                source=row.source,
                raw=row.raw,
                status="expired",
                reason=reason,
            )
        )
        records.append(SignalFinished(at=wall, signal_id=row.signal_id, reason=reason))
    return keep, records
