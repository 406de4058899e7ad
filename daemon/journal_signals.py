"""The journal's side of signals that must outlive a crash: accepted, not yet worked.

A signal acked "accepted" while queued behind another has no order yet; its id alone makes
a resend a duplicate. If the daemon dies before its executor starts it, only the journal
remembers it: startup hands it to its executor again, once.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import msgspec

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


def read_unfinished_signals(conn: sqlite3.Connection) -> list[UnfinishedSignal]:
    """Accepted signals with neither a finished row nor an order, in the order accepted.

    A signal with an order is carried by it (the order is adopted at startup, and the signal
    is marked finished when its orders end); replaying it would be a second trade.
    """
    # Finished ones are dropped first: after months, nearly every accepted signal is.
    rows = conn.execute(
        "SELECT s.signal_id, s.source, s.raw, s.at, s.reason IS ? FROM signals s "
        "WHERE s.status = 'accepted' AND s.signal_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM signals_finished f WHERE f.signal_id = s.signal_id) "
        "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.signal_id = s.signal_id) "
        "AND NOT EXISTS (SELECT 1 FROM signals e WHERE e.signal_id = s.signal_id "
        "                AND e.status = 'accepted' AND e.seq < s.seq) "
        "ORDER BY s.seq",
        (HELD_UNTIL_READY,),
    )
    return [
        UnfinishedSignal(
            signal_id=signal_id,
            source=source,
            raw=raw,
            accepted_at=datetime.fromisoformat(at),
            held=bool(held),
        )
        for signal_id, source, raw, at, held in rows
    ]
