"""Helpers that start a daemon for the integration and scenario tests: in this process on a
given paper venue, or as a ``tradingd`` subprocess from the checkout."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.config import BrokerConfig, Config
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import trio

    from brokers.sim import SimEndpoints

ROOT = Path(__file__).resolve().parents[2]
# The command as the tests run it: this interpreter, the checkout's package.
TRADINGD = [sys.executable, "-m", "daemon.cli"]


@asynccontextmanager
async def daemon_on(venue: SimEndpoints, journal: Path) -> AsyncIterator[Daemon]:
    """A daemon in this process on ``venue``, its journal at ``journal``."""
    config = Config(
        broker=BrokerConfig(
            kind="paper",
            base_url=venue.alpaca_url,
            stream_url=venue.stream_url,
            data_url=venue.data_url,
        )
    )
    credentials = load_credentials("paper", {}, None)
    async with open_daemon(config, credentials, journal_path=str(journal)) as daemon:
        yield daemon


async def read_line(stream: trio.abc.ReceiveStream) -> bytes:
    """Read up to and including the next newline (a subprocess's output, say)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = await stream.receive_some()
        assert chunk, "process closed its output"
        data += chunk
    return data
