"""Signals whose orders the executor already knows: acked ``duplicate``, never sent again.

Past the router's dedupe only when the signal's ack was lost in a crash after its order went
out (found at startup). Which leg a buy, sell or target needs depends on the position, so
the leg found at the venue may not be the one computed now: a flat leg posted before a crash,
then the signal replayed from flat, would open a whole entry. Any leg of the signal known
means it was worked. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.executor.core_flip import incomplete
from actors.executor.core_signals import Job, finished
from actors.flips import FLAT_LEG, SIGNAL_LEGS
from actors.ids import client_order_id_for, leg_of
from actors.messages import Action
from actors.records import IntentRecorded, JournalRecord

if TYPE_CHECKING:
    from datetime import datetime

    from actors.executor.core_order_book import OrderBook
    from actors.order_state import TrackedOrder


def known_leg(job: Job, book: OrderBook) -> TrackedOrder | None:
    """Any leg of a buy, sell or target the book knows already (a close is never one)."""
    if job.signal.action is Action.CLOSE:
        return None
    for leg in SIGNAL_LEGS:
        existing = book.order(client_order_id_for(job.signal.id, leg))
        if existing is not None:
            return existing
    return None


def already_worked(
    job: Job, existing: TrackedOrder, wall: datetime
) -> tuple[tuple[JournalRecord, ...], str | None]:
    """The records acking ``job`` a duplicate of ``existing``, and an alert if one is due.

    Never resent. The intent names the signal on the order's row, so the next restart's
    dedupe knows it."""
    leg = leg_of(existing.client_order_id) or ""  # the signal's own id: it names one
    intent = IntentRecorded(at=wall, signal_id=job.signal.id, leg=leg, request=existing.request)
    records: tuple[JournalRecord, ...] = (intent, finished(job, wall, "order already exists"))
    if leg != FLAT_LEG:
        return records, None
    # Its open leg would be sized from a position that moved since: not guessed.
    reason = f"its {leg} leg was found after a restart; the open leg is not sent"
    records = (*records, incomplete(job, reason, wall))
    return records, f"signal {job.signal.id}: {reason}"
