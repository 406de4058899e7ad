"""Fixtures of the Tradovate front's integration tests: a venue served on loopback whose
object the test keeps, to publish entity changes and prices where no other part does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pytest
import trio

from brokers.sim import SimConfig
from brokers.sim.server import TRADOVATE_MD_PATH, TRADOVATE_WS_PATH, serve_venue
from brokers.sim.venue import SimVenue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from brokers.sim.tradovate.front import TradovateFront


@attrs.frozen
class TradovateVenue:
    venue: SimVenue
    rest_url: str
    ws_url: str
    md_url: str

    @property
    def front(self) -> TradovateFront:
        return self.venue.tradovate


@pytest.fixture
def sim_config() -> SimConfig:
    """A venue whose Tradovate sockets drop a silent client after 30 s (the default)."""
    return SimConfig()


@pytest.fixture
async def tradovate(sim_config: SimConfig) -> AsyncIterator[TradovateVenue]:
    venue = SimVenue.from_config(sim_config)
    async with trio.open_nursery() as nursery:
        endpoints = await nursery.start(serve_venue, venue, sim_config)
        streams = endpoints.stream_url.removesuffix("/stream")
        yield TradovateVenue(
            venue,
            endpoints.alpaca_url,
            streams + TRADOVATE_WS_PATH,
            streams + TRADOVATE_MD_PATH,
        )
        nursery.cancel_scope.cancel()
