"""A ``Broker`` whose reads wait out the venue's trouble: for the startup gate.

Every read is idempotent, so each is asked again after a 429, a 5xx, a timeout or a refused
connection, for as long as it takes (``read_until_answered``, on ``actors.retry``'s
backoff); refused credentials raise at once. Orders and cancels pass straight through: they
are never retried blindly.

The shell is ours rather than a retry library's: before each sleep the daemon must say what
it waits for (``tradingd status``, systemd's ``STATUS=``) with the exact delay and attempt,
per call, and honour the venue's own hint (Retry-After, X-Ratelimit-Reset) per failure.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

import attrs
import trio

from actors.retry import Backoff, BrokerWait, OnWait, is_worth_retrying, startup_backoff
from brokers.base import RequestPriority
from brokers.errors import BrokerError, BrokerUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

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

# The name the retries have always logged under.
log = logging.getLogger("tradingd.retry")

T = TypeVar("T")


async def read_until_answered(
    read: Callable[[], Awaitable[T]],
    *,
    on_wait: OnWait | None = None,
    backoff: Backoff | None = None,
) -> T:
    """``read()`` again after each retryable failure, for as long as it takes.

    Only for idempotent calls (reads): a retry can never become a second order.
    ``AuthenticationFailed`` and final answers are raised at once.
    """
    backoff = backoff or startup_backoff()
    while True:
        try:
            return await read()
        except BrokerError as exc:
            if not is_worth_retrying(exc):
                raise
            hint = exc.retry_after if isinstance(exc, BrokerUnavailable) else None
            wait = BrokerWait(str(exc), backoff.next_delay(hint), backoff.attempts)
            log.warning("%s", wait.describe(), extra={"attempt": wait.attempt})
            if on_wait is not None:
                on_wait(wait)
            await trio.sleep(wait.delay)


@attrs.frozen
class PatientReads:
    """``broker`` with retried reads; ``on_wait`` hears of every wait before it sleeps."""

    broker: Broker
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

    async def submit_order(
        self, request: OrderRequest, *, priority: RequestPriority = RequestPriority.NEW_ORDER
    ) -> VenueOrder:
        return await self.broker.submit_order(request, priority=priority)

    async def cancel_order(self, venue_order_id: str) -> None:
        await self.broker.cancel_order(venue_order_id)

    def order_updates(self) -> AbstractAsyncContextManager[AsyncIterator[OrderUpdate]]:
        return self.broker.order_updates()

    async def aclose(self) -> None:
        await self.broker.aclose()
