"""Driving a running paper venue from tests and benchmarks: start it, read its truth,
move its prices, arm its faults."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import trio

from brokers.sim.config import SimConfig, SimEndpoints
from brokers.sim.server import serve_sim

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from decimal import Decimal


@asynccontextmanager
async def running_sim(config: SimConfig | None = None) -> AsyncIterator[SimEndpoints]:
    """A venue serving for the duration of the block."""
    async with trio.open_nursery() as nursery:
        endpoints: SimEndpoints = await nursery.start(serve_sim, config or SimConfig())
        try:
            yield endpoints
        finally:
            nursery.cancel_scope.cancel()


class SimControl:
    """The venue's own ``/_sim`` endpoints over HTTP."""

    def __init__(self, endpoints: SimEndpoints, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient()
        self._base = endpoints.alpaca_url

    async def __aenter__(self) -> SimControl:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.aclose()

    async def state(self) -> dict[str, Any]:
        """``{"account", "positions", "orders", "submissions", "realized_pl", "prices", ...,
        "tradovate"}``."""
        response = await self._client.get(f"{self._base}/_sim/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    async def futures_state(self) -> dict[str, Any]:
        """The Tradovate front's futures account: ``state()["tradovate"]``."""
        futures: dict[str, Any] = (await self.state())["tradovate"]
        return futures

    async def set_prices(self, prices: Mapping[str, Decimal | str]) -> None:
        body = {symbol: str(price) for symbol, price in prices.items()}
        response = await self._client.post(f"{self._base}/_sim/prices", json=body)
        response.raise_for_status()

    async def advance_clock(self, seconds: float) -> datetime:
        """Move the venue's time on; sessions it passes close, bars it passes print."""
        return await self._move_clock({"advance": seconds})

    async def set_clock(self, when: datetime) -> datetime:
        """Move the venue's time on to ``when`` (timezone-aware, not in its past)."""
        return await self._move_clock({"to": when.isoformat()})

    async def _move_clock(self, body: dict[str, Any]) -> datetime:
        response = await self._client.post(f"{self._base}/_sim/clock", json=body)
        response.raise_for_status()
        return datetime.fromisoformat(response.json()["timestamp"])

    async def fault(self, name: str, **params: Any) -> None:
        response = await self._client.post(
            f"{self._base}/_sim/faults", json={"fault": name, **params}
        )
        response.raise_for_status()
