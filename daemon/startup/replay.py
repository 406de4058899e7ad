"""Startup's replay of signals accepted before a crash and never worked.

A signal acked "accepted" while queued behind another has no order yet; if the daemon dies
before its executor starts it, only the journal remembers it. Startup reads those from the
journal and the SignalRouter hands them out again (``run_signal_router``'s ``replay``),
before the gate opens and before any new signal. A signal whose row cannot be read back, or
that no longer parses, is quarantined (journaled failed, with an ERROR line saying what to
do) and the daemon starts without it: a poison row must never stop every start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from actors.quarantine import WHAT_TO_DO
from actors.records import FailureStage, JournalRecord, SignalFailed, SignalFinished, SignalRecorded
from actors.router.core_replay import signals_to_replay
from brokers.base import utc_now
from daemon.startup.holding_intake import hold_age

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from actors.messages import Signal
    from actors.prices import PriceBook
    from daemon.journal.signals import UnfinishedSignal
    from daemon.journal.store import Journal

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
    wall = utc_now()
    unfinished, damaged = await journal.unfinished_signal_rows()
    if max_hold is not None:
        unfinished, expired = _split_expired(
            unfinished, max_hold, held_at or {}, now=trio.current_time(), wall=wall
        )
        if expired:
            await journal.commit(*expired)
    replay = signals_to_replay(
        ((row.signal_id, row.raw) for row in unfinished), sized_entries=sized_entries, wall=wall
    )
    failed = [
        SignalFailed(
            at=wall,
            signal_id=row.signal_id,
            stage=FailureStage.REPLAY,
            error_type=row.error_type,
            error=f"not replayed: its journal row cannot be read: {row.error}",
        )
        for row in damaged
    ]
    failed += replay.unreadable
    for record in failed:
        log.error(
            "signal %s, accepted before the restart, quarantined: %s: %s; %s",
            record.signal_id,
            record.error_type,
            record.error,
            WHAT_TO_DO,
            extra={"signal_id": record.signal_id, "stage": record.stage.value},
        )
    if failed:
        await journal.commit(*failed)
    # Held while this start waited for the venue, or left unworked by a crash: only the
    # second is worth a warning (a held signal being worked now is what holding promised).
    held = {row.signal_id for row in unfinished if row.held and row.signal_id in (held_at or {})}
    worked_late = [signal.id for signal in replay.signals if signal.id not in held]
    if held:
        log.info("%d signals held until ready are worked now", len(held))
    if worked_late:
        log.warning(
            "%d signals accepted before the restart were never worked; replaying them: %s",
            len(worked_late),
            ", ".join(worked_late),
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
