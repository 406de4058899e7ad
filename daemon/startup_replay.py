"""Startup's replay of signals accepted before a crash and never worked.

A signal acked "accepted" while queued behind another has no order yet; if the daemon dies
before its executor starts it, only the journal remembers it. Startup reads those from the
journal and the SignalRouter hands them out again (``run_signal_router``'s ``replay``),
before the gate opens and before any new signal.
"""

from __future__ import annotations

import logging

from actors.messages import Signal
from actors.prices import PriceBook
from actors.signal_replay import signals_to_replay
from brokers.base import utc_now
from daemon.journal import Journal

log = logging.getLogger("tradingd")


async def wait_priced(prices: PriceBook, symbols: frozenset[str]) -> None:
    """Return once each symbol has had a price (a rebalance replayed at startup)."""
    for symbol in sorted(symbols):
        await prices.wait_for(symbol)


async def unfinished_signals(journal: Journal, *, sized_entries: bool) -> tuple[Signal, ...]:
    """Signals acked "accepted" before a crash whose work never started (queued behind
    another, with no order yet): the router hands them out again before any new signal."""
    unfinished = await journal.unfinished_signals()
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
