"""What the Reconciler's task works with: the venue, the journal, the other actors' handles,
and the venue's positions as it last read them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import attrs

from actors.reconciler.open_orders import list_orders_paged
from brokers.base import Broker, Position, VenueOrder, utc_now

if TYPE_CHECKING:
    from collections.abc import Mapping

    import trio

    from actors.executor.effects import ExecutorInput
    from actors.messages import MonitorInput
    from actors.reconciler.core_in_flight import WorkingOrder
    from actors.reconciler.core_order_diff import LiveOrder
    from actors.records import JournalRecord
    from actors.router import Intake

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


class ExecutorsView(Protocol):
    """What the Reconciler reads of the executors (their handle): never their cores."""

    def holdings(self) -> dict[str, Decimal]:
        """Every executor's position, flat ones included."""
        ...

    def follows(self, symbol: str, client_order_id: str) -> bool:
        """The symbol's executor knows this order (bracket legs carry ids the venue chose,
        yet they are ours)."""
        ...

    def live_orders(self) -> list[LiveOrder]:
        """The orders executors still follow."""
        ...

    def working_orders(self) -> list[WorkingOrder]:
        """The orders executors follow that may still fill, with what each has left."""
        ...

    def inbox(self, symbol: str) -> trio.MemorySendChannel[ExecutorInput] | None:
        """The symbol's running executor's inbox; None when none runs (one spawned later
        starts from the venue's position, outside fills and all)."""
        ...


class FreshPrices(Protocol):
    def fresh_price(self, symbol: str) -> Decimal | None:
        """The last trade price, when fresh enough to decide on."""
        ...


class NoPrices:
    """No prices at all: a phantom position is then valued at nothing."""

    def fresh_price(self, symbol: str) -> Decimal | None:
        return None


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
    monitor: trio.MemorySendChannel[MonitorInput]  # the OrderMonitor's inbox
    intake: Intake
    executors: ExecutorsView
    view: VenueView
    # When the startup gate read the venue: while running, only orders the venue changed
    # since then can explain a drift (the executors began from the venue's positions).
    started_at: datetime
    # The last trade price, for a symbol the venue holds no position in (a phantom).
    prices: FreshPrices = attrs.field(factory=NoPrices)


async def recent_orders(broker: Broker) -> list[VenueOrder]:
    """The venue's orders of the last ``ORDER_LOOKBACK``, whatever their status: every page
    of them (a busy day has more than one), legs nested under their parents so a venue-named
    leg of ours is never taken for an outside order."""
    return await list_orders_paged(broker, "all", utc_now() - ORDER_LOOKBACK, nested=True)


def changed_since(orders: list[VenueOrder], since: datetime | None) -> list[VenueOrder]:
    return orders if since is None else [o for o in orders if o.updated_at >= since]
