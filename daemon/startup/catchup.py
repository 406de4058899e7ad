"""Startup's catch-up with what the venue did while the journal was not looking.

A kill -9 leaves two kinds of gaps: fills of unfinished orders made after their last record
(or while nothing ran), and orders the venue took whose intents never became durable (the
intent's commit overlaps the POST). Both are read from the venue and recorded before any
signal is accepted, so the journal's orders, fills and positions agree with the venue's.
The decisions are ``actors.reconciler.core_startup_fills``'s; this is the I/O around them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from actors.ids import is_own_client_order_id
from actors.reconciler import (
    JournalOrder,
    JournalPosition,
    StartupState,
    VenueProgress,
    list_orders_paged,
    missed_fills,
)
from actors.records import FillRecorded, JournalRecord
from brokers.base import Broker, VenueOrder, utc_now

if TYPE_CHECKING:
    from daemon.journal.store import Journal, OrderRow

log = logging.getLogger("tradingd")

# The venue's clock may run this far ahead of ours; and an intent's commit is queued only
# once its POST is on the wire, so records stamped a moment after that POST can be durable
# when the intent is not.
CLOCK_MARGIN = timedelta(seconds=5)


async def orders_the_journal_lacks(
    broker: Broker, journal: Journal, last_record_at: datetime | None
) -> list[VenueOrder]:
    """Our orders (by client id) the venue took after the journal's last record and the
    journal never recorded: a kill -9 between the POST and the intent's commit."""
    if last_record_at is None:
        return []  # a new journal: nothing of ours can have been sent from it
    recent = await list_orders_paged(broker, "all", last_record_at - CLOCK_MARGIN)
    own = [o for o in recent if is_own_client_order_id(o.client_order_id)]
    known = await journal.known_order_ids([o.client_order_id for o in own])
    unknown = [o for o in own if o.client_order_id not in known]
    for order in unknown:
        log.warning(
            "startup: %s %s %s %s was sent just before the last stop but never journaled: "
            "recorded now (%s, %s filled)",
            order.symbol,
            order.side,
            order.qty,
            order.client_order_id,
            order.status,
            order.filled_qty,
        )
    return unknown


async def missed_fill_records(
    journal: Journal, unfinished: list[OrderRow], unknown: list[VenueOrder], startup: StartupState
) -> list[JournalRecord]:
    progress = [
        *(VenueProgress.of_unknown(o) for o in unknown),
        *(VenueProgress.of_resolved(r) for r in startup.intents.records),
        *(
            VenueProgress.of_open_order(o)
            for orders in startup.open_orders.values()
            for o in orders
        ),
    ]
    positions = {
        s: JournalPosition(p.qty, p.avg_entry_price, p.realized_pnl)
        for s, p in (await journal.positions()).items()
    }
    orders = [
        JournalOrder(o.client_order_id, o.symbol, o.side, o.filled_qty, o.avg_fill_price)
        for o in unfinished
        if o.side is not None
    ] + [JournalOrder(o.client_order_id, o.symbol, o.side, Decimal(0), None) for o in unknown]
    records = missed_fills(orders, progress, positions, utc_now())
    for record in records:
        if isinstance(record, FillRecorded):
            log.warning(
                "startup: %s %s %s filled while tradingd was down (%s); recorded now",
                record.symbol,
                record.side,
                record.qty,
                record.client_order_id,
            )
    return records
