"""Listing the venue's orders however many there are: open ones for the startup gate and
the halt, recent ones to find orders a crash kept out of the journal.

Alpaca lists at most 500 orders per request, so one page can miss most of a busy account's
orders; listings are paged by ``after`` (oldest first). Legs are listed on their own (not
nested): a bracket whose entry has filled is no longer open itself, and in a nested listing
its working exits would be missing with it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brokers.base import Broker, OrderListStatus, VenueOrder

log = logging.getLogger("tradingd.reconciler")

# Alpaca's largest page.
PAGE = 500
# ``after`` is strict: each page starts a microsecond before the last one's final order, so
# orders sharing that timestamp are listed again (and de-duplicated), never skipped.
_OVERLAP = timedelta(microseconds=1)


async def list_open_orders(broker: Broker, page: int = PAGE) -> list[VenueOrder]:
    """The venue's open orders, oldest first, each once, legs included."""
    return await list_orders_paged(broker, "open", None, page)


async def list_orders_paged(
    broker: Broker,
    status: OrderListStatus,
    after: datetime | None,
    page: int = PAGE,
    *,
    nested: bool = False,
) -> list[VenueOrder]:
    """Every order in ``status`` submitted after ``after``, oldest first, each once."""
    found: dict[str, VenueOrder] = {}
    while True:
        batch = await broker.list_orders(status=status, after=after, limit=page, nested=nested)
        fresh = [o for o in batch if o.venue_order_id not in found]
        found.update((o.venue_order_id, o) for o in fresh)
        if len(batch) < page:
            return list(found.values())
        if not fresh:
            # A whole page on one timestamp: paging by time cannot get past it.
            log.error(
                "more than %d orders share the time %s: the list may be incomplete",
                page,
                batch[-1].submitted_at,
            )
            return list(found.values())
        after = batch[-1].submitted_at - _OVERLAP
