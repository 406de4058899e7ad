"""Signals accepted before a crash and never worked: what startup hands out again. Pure.

Their ack was given (usually "accepted: queued behind an earlier signal") and their ids are
spent, so a resend is a duplicate: without a replay the trade the source was promised would
never happen. The replay sends no ack (the source that sent them is gone). One that can no
longer be read is quarantined (journaled failed, listed for the operator), never raised on:
raising would stop this start and every later one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from actors.messages import BadSignal, Signal, parse_signal
from actors.records import FailureStage, SignalFailed
from actors.signal_bounds import ERROR_CHARS, RAW_CHARS, bounded_text

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime


@attrs.frozen
class Replay:
    """The signals to work again, in the order they were accepted, and a failure record
    for each one that can no longer be read (so it is reported once, not at every start)."""

    signals: tuple[Signal, ...]
    unreadable: tuple[SignalFailed, ...]


def signals_to_replay(
    accepted: Iterable[tuple[str, str]], *, sized_entries: bool, wall: datetime
) -> Replay:
    """``accepted`` holds (signal id, the line as journaled), oldest first."""
    signals: list[Signal] = []
    unreadable: list[SignalFailed] = []
    for signal_id, raw in accepted:
        try:
            signal = parse_signal(raw, sized_entries=sized_entries)
        except Exception as exc:
            # BadSignal, and whatever else a line written by another version may raise.
            what = "no longer parses" if isinstance(exc, BadSignal) else "raised"
            failure = f"not replayed: the journaled signal {what}: {exc}"
            unreadable.append(_failed(signal_id, raw, type(exc).__name__, failure, wall))
            continue
        if signal.id != signal_id:
            failure = f"not replayed: the journaled line carries id {signal.id!r}"
            unreadable.append(_failed(signal_id, raw, "MismatchedId", failure, wall))
            continue
        signals.append(signal)
    return Replay(tuple(signals), tuple(unreadable))


def _failed(signal_id: str, raw: str, error_type: str, error: str, wall: datetime) -> SignalFailed:
    return SignalFailed(
        at=wall,
        signal_id=signal_id,
        stage=FailureStage.REPLAY,
        error_type=error_type,
        error=bounded_text(error, ERROR_CHARS),
        raw=bounded_text(raw, RAW_CHARS),
    )
