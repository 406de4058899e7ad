"""A ``Broker`` whose reads wait out the venue's trouble: for the startup gate.

Every read is idempotent, so each is asked again after a 429, a 5xx, a timeout or a refused
connection, for as long as it takes (``actors.retry``); refused credentials raise at once.
Orders and cancels pass straight through: they are never retried blindly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

import attrs

from actors.retry import OnWait, read_until_answered, startup_backoff
from brokers.base import (
    Account,
    Asset,
    Broker,
    MarketClock,
    OrderListStatus,
    OrderRequest,
    OrderUpdate,
    Position,
    VenueOrder,
)


class ClockedBroker(Broker, Protocol):
    """A broker that also tells the market clock (RiskGuard's trading day)."""

    async def get_clock(self) -> MarketClock: ...


@attrs.frozen
class PatientReads:
    """``broker`` with retried reads; ``on_wait`` hears of every wait before it sleeps."""

    broker: ClockedBroker
    on_wait: OnWait | None = None

    async def get_account(self) -> Account:
        return await read_until_answered(
            self.broker.get_account, on_wait=self.on_wait, backoff=startup_backoff()
        )

    async def get_clock(self) -> MarketClock:
        return await read_until_answered(
            self.broker.get_clock, on_wait=self.on_wait, backoff=startup_backoff()
        )

    async def list_positions(self) -> list[Position]:
        return await read_until_answered(
            self.broker.list_positions, on_wait=self.on_wait, backoff=startup_backoff()
        )

    async def list_assets(self) -> list[Asset]:
        return await read_until_answered(
            self.broker.list_assets, on_wait=self.on_wait, backoff=startup_backoff()
        )

    async def list_orders(
        self,
        *,
        status: OrderListStatus = "open",
        after: datetime | None = None,
        limit: int = 500,
        nested: bool = True,
    ) -> list[VenueOrder]:
        async def read() -> list[VenueOrder]:
            return await self.broker.list_orders(
                status=status, after=after, limit=limit, nested=nested
            )

        return await read_until_answered(read, on_wait=self.on_wait, backoff=startup_backoff())

    async def get_order(self, venue_order_id: str) -> VenueOrder:
        async def read() -> VenueOrder:
            return await self.broker.get_order(venue_order_id)

        return await read_until_answered(read, on_wait=self.on_wait, backoff=startup_backoff())

    async def get_order_by_client_id(self, client_order_id: str) -> VenueOrder | None:
        async def read() -> VenueOrder | None:
            return await self.broker.get_order_by_client_id(client_order_id)

        return await read_until_answered(read, on_wait=self.on_wait, backoff=startup_backoff())

    async def submit_order(self, request: OrderRequest) -> VenueOrder:
        return await self.broker.submit_order(request)

    async def cancel_order(self, venue_order_id: str) -> None:
        await self.broker.cancel_order(venue_order_id)

    def order_updates(self) -> AbstractAsyncContextManager[AsyncIterator[OrderUpdate]]:
        return self.broker.order_updates()

    async def aclose(self) -> None:
        await self.broker.aclose()
