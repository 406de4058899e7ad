"""What the Reconciler's task works with: the venue, the journal, the other actors' doors,
and the venue's positions as it last read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import attrs
import trio

from actors.reconciler.core_order_diff import LiveOrder
from actors.reconciler.open_orders import list_orders_paged
from actors.records import JournalRecord
from actors.router import Intake
from brokers.base import Broker, Position, VenueOrder, utc_now

ZERO = Decimal(0)
# How far back the venue's orders are read to explain a drift.
ORDER_LOOKBACK = timedelta(days=1)


class HasRealizedPnl(Protocol):
    @property
    def realized_pnl(self) -> Decimal: ...


class ReconcilerJournal(Protocol):
    async def commit(self, *records: JournalRecord) -> None: ...

    async def filled_by_order(self, client_order_ids: list[str]) -> dict[str, Decimal]: ...

    async def positions(self) -> Mapping[str, HasRealizedPnl]: ...


@attrs.define
class VenueView:
    """The venue's positions as of the Reconciler's latest read (it is the only writer).

    An executor spawned after startup starts from here, not from the startup snapshot, so a
    position opened outside tradingd since then is its starting point.
    """

    positions: dict[str, Position] = attrs.field(factory=dict)


@attrs.frozen
class ReconcilerDeps:
    broker: Broker
    journal: ReconcilerJournal
    monitor: trio.MemorySendChannel[Any]  # the OrderMonitor's inbox
    intake: Intake
    holdings: Callable[[], dict[str, Decimal]]  # every executor's position (flat included)
    view: VenueView
    # When the startup gate read the venue: while running, only orders the venue changed
    # since then can explain a drift (the executors began from the venue's positions).
    started_at: datetime
    live_orders: Callable[[], list[LiveOrder]] = list  # orders executors still follow
    # Whether the symbol's executor knows this client order id (bracket legs carry ids the
    # venue chose, yet they are ours).
    follows: Callable[[str, str], bool] = lambda _symbol, _cid: False
    # The last trade price, for a symbol the venue holds no position in (a phantom).
    last_price: Callable[[str], Decimal | None] = lambda _: None
    # The inbox of the symbol's running executor; None when none runs (one spawned later
    # starts from the venue's position, outside fills and all).
    executor_inbox: Callable[[str], trio.MemorySendChannel[Any] | None] = lambda _: None


async def recent_orders(broker: Broker) -> list[VenueOrder]:
    """The venue's orders of the last ``ORDER_LOOKBACK``, whatever their status: every page
    of them (a busy day has more than one), legs nested under their parents so a venue-named
    leg of ours is never taken for an outside order."""
    return await list_orders_paged(broker, "all", utc_now() - ORDER_LOOKBACK, nested=True)


def changed_since(orders: list[VenueOrder], since: datetime | None) -> list[VenueOrder]:
    return orders if since is None else [o for o in orders if o.updated_at >= since]
