"""The daemon with a ``[reconcile]`` setting on a paper venue, and ways to wait for what the
Reconciler journals. Waits are driven by journal records (each drift check's venue call is
one), never by sleeping."""

from __future__ import annotations

import warnings
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import attrs
import trio

from actors.records import JournalRecord, VenueCallRecorded
from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim
from daemon.config import BrokerConfig, Config, MonitorConfig, ReconcileConfig
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

    from actors.reconciler.core_drift import Mode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import MarketOrderRequest

PRICES = {"AAPL": Decimal(100), "MSFT": Decimal(200), "AMD": Decimal(50)}
LIMIT = 15.0
# Lookups only when asked: a fill the stream drops stays missing until the Reconciler acts.
NO_LOOKUPS = MonitorConfig(first_answer=600.0, recheck=600.0, unhealthy_poll=0.2)
R = TypeVar("R", bound=JournalRecord)


def reconcile_config(mode: Mode, auto_limit: int) -> ReconcileConfig:
    return ReconcileConfig(
        mode=mode, auto_limit=Decimal(auto_limit), tolerance=Decimal(0), interval=0.2
    )


@attrs.define
class Run:
    daemon: Daemon
    venue: SimControl
    endpoints: SimEndpoints
    records: trio.MemoryReceiveChannel[JournalRecord]
    seen: list[JournalRecord] = attrs.field(factory=list)

    async def record(self, kind: type[R], match: Callable[[R], bool] = lambda _: True) -> R:
        """The first journaled record of ``kind`` that matches, seen before or still to come."""
        with trio.fail_after(LIMIT):
            index = 0
            while True:
                while index < len(self.seen):
                    record = self.seen[index]
                    index += 1
                    if isinstance(record, kind) and match(record):
                        return record
                self.seen.append(await self.records.receive())

    async def until(self, holds: Callable[[], Awaitable[bool]]) -> None:
        """Wait, one journal record at a time, until ``holds`` is true."""
        with trio.fail_after(LIMIT):
            while not await holds():
                self.seen.append(await self.records.receive())

    async def checks(self, count: int) -> None:
        """Wait until the Reconciler has read the venue's positions ``count`` more times."""
        with trio.fail_after(LIMIT):
            while count:
                record = await self.records.receive()
                self.seen.append(record)
                if isinstance(record, VenueCallRecorded) and record.call.path.startswith(
                    "/v2/positions"
                ):
                    count -= 1

    async def settle(self) -> None:
        with trio.fail_after(LIMIT):
            await self.daemon.activity.wait_idle()
        await self.daemon.journal.flush()

    async def venue_positions(self) -> dict[str, Decimal]:
        state = await self.venue.state()
        return {p["symbol"]: Decimal(p["qty"]) for p in state["positions"] if Decimal(p["qty"])}

    async def submissions(self) -> dict[str, int]:
        submissions: dict[str, int] = (await self.venue.state())["submissions"]
        return submissions

    async def buy_elsewhere(self, symbol: str, qty: int) -> None:
        await buy_elsewhere(self.endpoints, symbol, qty)


async def buy_elsewhere(endpoints: SimEndpoints, symbol: str, qty: int) -> None:
    """An order placed directly at the venue with alpaca-py, as a person would."""
    client = TradingClient("elsewhere", "secret", paper=True, url_override=endpoints.alpaca_url)
    request = MarketOrderRequest(
        symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
    )
    try:
        await trio.to_thread.run_sync(lambda: client.submit_order(request))
    finally:
        client._session.close()


@asynccontextmanager
async def reconciling(
    tmp_path: Path,
    mode: Mode,
    *,
    auto_limit: int = 100_000,
    monitor: MonitorConfig = NO_LOOKUPS,
    before_start: Callable[[SimEndpoints], Awaitable[None]] | None = None,
) -> AsyncIterator[Run]:
    """A venue, and the daemon on it with the journal at ``tmp_path / journal.sqlite3``;
    ``before_start`` acts on the venue before the daemon starts."""
    async with running_sim(SimConfig(prices=dict(PRICES))) as endpoints:
        if before_start is not None:
            await before_start(endpoints)
        async with daemon_run(
            endpoints, tmp_path, mode, auto_limit=auto_limit, monitor=monitor
        ) as run:
            yield run


@asynccontextmanager
async def daemon_run(
    endpoints: SimEndpoints,
    tmp_path: Path,
    mode: Mode,
    *,
    auto_limit: int = 100_000,
    monitor: MonitorConfig = NO_LOOKUPS,
) -> AsyncIterator[Run]:
    """One run of the daemon on a venue already running (run it again for a restart)."""
    config = Config(
        broker=BrokerConfig(
            kind="paper",
            base_url=endpoints.alpaca_url,
            stream_url=endpoints.stream_url,
            data_url=endpoints.data_url,
        ),
        monitor=monitor,
        reconcile=reconcile_config(mode, auto_limit),
    )
    credentials = load_credentials("paper", {}, None)
    journal = str(tmp_path / "journal.sqlite3")
    async with (
        SimControl(endpoints) as venue,
        open_daemon(config, credentials, journal_path=journal) as daemon,
    ):
        with trio.fail_after(LIMIT):
            for symbol in PRICES:
                await daemon.prices.wait_for(symbol)
        with daemon.journal.watch() as records:
            yield Run(daemon, venue, endpoints, records)
        daemon.stop()
