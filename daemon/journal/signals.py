"""The journal's side of signals that must outlive a crash: accepted, not yet worked, and
those quarantined because their handling raised.

A signal acked "accepted" while queued behind another has no order yet; its id alone makes
a resend a duplicate. If the daemon dies before its executor starts it, only the journal
remembers it: startup hands it to its executor again, once. A row startup cannot read back
(written by another version, or damaged) is returned as such, never raised: one bad row must
not stop every start.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from actors.records import FailureStage

if TYPE_CHECKING:
    import sqlite3

# The ack reason of a signal that arrived before the startup gate passed. The replay knows a
# held signal by it (an exact match, never a pattern): such a signal may expire.
HELD_UNTIL_READY = "held until ready"


class UnfinishedSignal(msgspec.Struct, frozen=True, kw_only=True):
    """An accepted signal whose work never started: no order names it, none finished it."""

    signal_id: str
    source: str
    raw: str  # the line as accepted (or the signal as the executor encoded it)
    accepted_at: datetime
    # Accepted before the startup gate passed: it expires after [sources] max_hold.
    held: bool = False


class UnreadableSignal(msgspec.Struct, frozen=True, kw_only=True):
    """An unfinished signal whose journal row does not hold what this version wrote there."""

    signal_id: str
    error_type: str
    error: str


class FailedSignal(msgspec.Struct, frozen=True, kw_only=True):
    """A quarantined signal: its handling raised; never replayed, its id spent."""

    signal_id: str
    at: datetime
    stage: FailureStage
    error_type: str
    error: str
    raw: str | None
    resolved_at: datetime | None


def read_unfinished_signals(
    conn: sqlite3.Connection,
) -> tuple[list[UnfinishedSignal], list[UnreadableSignal]]:
    """Accepted signals with neither a finished row, a failure nor an order, in the order
    accepted; and those among them whose row cannot be read back.

    A signal with an order is carried by it (the order is adopted at startup, and the signal
    is marked finished when its orders end); replaying it would be a second trade.
    """
    # Finished ones are dropped first: after months, nearly every accepted signal is.
    rows = conn.execute(
        "SELECT s.signal_id, s.source, s.raw, s.at, s.reason IS ? FROM signals s "
        "WHERE s.status = 'accepted' AND s.signal_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM signals_finished f WHERE f.signal_id = s.signal_id) "
        "AND NOT EXISTS (SELECT 1 FROM signals_failed q WHERE q.signal_id = s.signal_id) "
        "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.signal_id = s.signal_id) "
        "AND NOT EXISTS (SELECT 1 FROM signals e WHERE e.signal_id = s.signal_id "
        "                AND e.status = 'accepted' AND e.seq < s.seq) "
        "ORDER BY s.seq",
        (HELD_UNTIL_READY,),
    )
    readable: list[UnfinishedSignal] = []
    unreadable: list[UnreadableSignal] = []
    for signal_id, source, raw, at, held in rows:
        try:
            readable.append(_unfinished(signal_id, source, raw, at, held=bool(held)))
        except (TypeError, ValueError) as exc:
            # A TEXT column holds whatever was stored in it: SQLite does not enforce types.
            unreadable.append(
                UnreadableSignal(
                    signal_id=str(signal_id), error_type=type(exc).__name__, error=str(exc)
                )
            )
    return readable, unreadable


def _unfinished(
    signal_id: object, source: object, raw: object, at: object, *, held: bool
) -> UnfinishedSignal:
    accepted_at = datetime.fromisoformat(_text("at", at))
    if accepted_at.tzinfo is None:
        raise ValueError(f"the journal's `at` {at!r} has no UTC offset")
    return UnfinishedSignal(
        signal_id=_text("signal_id", signal_id),
        source=_text("source", source),
        raw=_text("raw", raw),
        accepted_at=accepted_at,
        held=held,
    )


def _text(name: str, value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8")  # strict: invalid bytes are a damaged row, not a signal
    if not isinstance(value, str):
        raise TypeError(f"the journal's `{name}` is {type(value).__name__}, not text")
    return value


def read_failed_signals(conn: sqlite3.Connection, *, resolved: bool) -> list[FailedSignal]:
    """Quarantined signals, oldest first: those still unresolved, or with ``resolved`` all."""
    where = "" if resolved else " WHERE resolved_at IS NULL"
    rows = conn.execute(
        "SELECT signal_id, at, stage, error_type, error, raw, resolved_at FROM signals_failed"
        f"{where} ORDER BY at, signal_id"
    )
    return [
        FailedSignal(
            signal_id=signal_id,
            at=datetime.fromisoformat(at),
            stage=FailureStage(stage),
            error_type=error_type,
            error=error,
            raw=raw,
            resolved_at=None if resolved_at is None else datetime.fromisoformat(resolved_at),
        )
        for signal_id, at, stage, error_type, error, raw, resolved_at in rows
    ]


def read_failed_count(conn: sqlite3.Connection) -> int:
    """How many quarantined signals wait for an operator."""
    row = conn.execute("SELECT count(*) FROM signals_failed WHERE resolved_at IS NULL").fetchone()
    return int(row[0])
