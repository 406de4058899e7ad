"""Every order the venue holds open, however many: the startup gate's and the halt's view.

Alpaca lists at most 500 orders per request, so one page can miss most of a busy account's
open orders; the listing is paged by ``after`` (oldest first). Legs are listed on their own
(not nested): a bracket whose entry has filled is no longer open itself, and in a nested
listing its working exits would be missing with it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from brokers.base import Broker, VenueOrder

log = logging.getLogger("tradingd.reconciler")

# Alpaca's largest page.
PAGE = 500
# ``after`` is strict: each page starts a microsecond before the last one's final order, so
# orders sharing that timestamp are listed again (and de-duplicated), never skipped.
_OVERLAP = timedelta(microseconds=1)


async def list_open_orders(broker: Broker, page: int = PAGE) -> list[VenueOrder]:
    """The venue's open orders, oldest first, each once, legs included."""
    found: dict[str, VenueOrder] = {}
    after = None
    while True:
        batch = await broker.list_orders(status="open", after=after, limit=page, nested=False)
        fresh = [o for o in batch if o.venue_order_id not in found]
        found.update((o.venue_order_id, o) for o in fresh)
        if len(batch) < page:
            return list(found.values())
        if not fresh:
            # A whole page on one timestamp: paging by time cannot get past it.
            log.error(
                "more than %d open orders share the time %s: the list may be incomplete",
                page,
                batch[-1].submitted_at,
            )
            return list(found.values())
        after = batch[-1].submitted_at - _OVERLAP
