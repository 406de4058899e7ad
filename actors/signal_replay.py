"""Signals accepted before a crash and never worked: what startup hands out again. Pure.

Their ack was given (usually "accepted: queued behind an earlier signal") and their ids are
spent, so a resend is a duplicate: without a replay the trade the source was promised would
never happen. The replay sends no ack (the source that sent them is gone).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from actors.messages import BadSignal, Signal, parse_signal
from actors.records import SignalFinished


@attrs.frozen
class Replay:
    """The signals to work again, in the order they were accepted, and a finished record
    for each one that can no longer be read (so it is reported once, not at every start)."""

    signals: tuple[Signal, ...]
    unreadable: tuple[SignalFinished, ...]


def signals_to_replay(
    accepted: Iterable[tuple[str, str]], *, sized_entries: bool, wall: datetime
) -> Replay:
    """``accepted`` holds (signal id, the line as journaled), oldest first."""
    signals: list[Signal] = []
    unreadable: list[SignalFinished] = []
    for signal_id, raw in accepted:
        try:
            signal = parse_signal(raw, sized_entries=sized_entries)
        except BadSignal as exc:
            reason = f"not replayed: the journaled signal no longer parses: {exc}"
            unreadable.append(SignalFinished(at=wall, signal_id=signal_id, reason=reason))
            continue
        if signal.id != signal_id:
            reason = f"not replayed: the journaled line carries id {signal.id!r}"
            unreadable.append(SignalFinished(at=wall, signal_id=signal_id, reason=reason))
            continue
        signals.append(signal)
    return Replay(tuple(signals), tuple(unreadable))
