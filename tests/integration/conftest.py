"""Fixtures of the integration tests: the paper venue on loopback (its REST client and its
control endpoints) and a daemon on the embedded paper venue.

A module that needs another venue overrides ``sim_config`` only; ``venue``, ``client`` and
``control`` follow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import trio

from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim
from daemon.config import load_config
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon
from tests.integration.sim_fixtures import AUTH, PRICES

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
def sim_config() -> SimConfig:
    """The paper venue's configuration: AAPL and MSFT priced, any credentials accepted."""
    return SimConfig(prices=PRICES)


@pytest.fixture
async def venue(sim_config: SimConfig) -> AsyncIterator[SimEndpoints]:
    async with running_sim(sim_config) as endpoints:
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


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    """A daemon on the embedded paper venue, its journal in ``tmp_path``, AAPL priced."""
    credentials = load_credentials("paper", {}, None)
    journal = str(tmp_path / "journal.sqlite3")
    async with open_daemon(load_config(None), credentials, journal_path=journal) as running:
        with trio.fail_after(10):
            await running.prices.wait_for("AAPL")
        yield running
