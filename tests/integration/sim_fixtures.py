"""Fixtures and helpers shared by the paper venue's integration tests: a venue on loopback,
a REST client with credentials, its control endpoints, and a ``trade_updates`` listener.

Test modules import the fixtures they use by name; a module that defines its own fixture of
the same name keeps its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from websockets.trio.client import ClientConnection

from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim

AUTH = {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "secret"}
MARKET = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
PRICES = {"AAPL": Decimal("100.00"), "MSFT": Decimal("400.00")}


@pytest.fixture
async def venue() -> AsyncIterator[SimEndpoints]:
    async with running_sim(SimConfig(prices=PRICES)) as endpoints:
        yield endpoints


@pytest.fixture
async def client(venue: SimEndpoints) -> AsyncIterator[httpx.AsyncClient]:
    # No client timeout: under the autojump clock a timeout would fire as soon as all idle.
    async with httpx.AsyncClient(base_url=venue.alpaca_url, headers=AUTH, timeout=None) as client:
        yield client


@pytest.fixture
async def control(venue: SimEndpoints) -> AsyncIterator[SimControl]:
    async with SimControl(venue) as control:
        yield control


async def open_listener(ws: ClientConnection) -> None:
    """Authenticate and listen to ``trade_updates``."""
    await ws.send(json.dumps({"action": "auth", "key": "key", "secret": "secret"}))
    await ws.recv()
    await ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
    await ws.recv()


async def event(ws: ClientConnection) -> dict[str, Any]:
    """The next ``trade_updates`` event's data."""
    message: dict[str, dict[str, Any]] = json.loads(await ws.recv())
    return message["data"]
