"""The supervisor: builds the daemon's layers, one nursery each, in dependency order.

    journal ─ venue (embedded paper venue, when configured) ─ broker adapter
        └─ actors: RiskGuard, Reconciler, OrderMonitor, price feed
              └─ executors (spawned on demand by the SignalRouter) ─ SignalRouter

Nothing is accepted before the startup gate (the Reconciler's reads of the venue) has
passed. A crashing actor takes the whole daemon down with its error: running half-alive is
worse than a restart, and startup reconciliation makes the restart safe.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import attrs
import trio

from actors.activity import Activity
from actors.executor import INBOX_SIZE, ExecutorDeps, run_executor
from actors.executor_core import ExecutorInput, SymbolExecutor
from actors.order_monitor import MonitorInput, OrderMonitorCore, Subscribers, run_order_monitor
from actors.position import ConfirmedPosition
from actors.prices import PriceBook
from actors.reconciler import StartupState, load_startup_state, run_reconciler
from actors.records import VenueCallRecorded
from actors.risk_guard import RiskGuardCore, RiskInput, RiskLimits, run_risk_guard
from actors.signal_router import Inbound, Intake, SignalRouterCore, run_signal_router
from brokers.alpaca import AlpacaBroker
from brokers.alpaca.marketdata import AlpacaMarketData
from brokers.base import OrderUpdate, VenueCall
from brokers.sim import SimConfig, SimEndpoints, serve_sim
from daemon.config import Config
from daemon.credentials import Credentials
from daemon.journal import Journal, open_journal
from daemon.price_feed import run_price_feed

log = logging.getLogger("tradingd")

ACTOR_INBOX = 256


@attrs.define
class Daemon:
    """A running daemon: its front door, and read-only views for the CLI and summaries."""

    intake: Intake
    activity: Activity
    journal: Journal
    broker: AlpacaBroker
    prices: PriceBook
    executors: dict[str, SymbolExecutor]
    startup: StartupState
    venue: SimEndpoints | None
    _scope: trio.CancelScope

    def positions(self) -> dict[str, Decimal]:
        """Each symbol's confirmed position, as its executor holds it (flat ones left out)."""
        return {s: e.position.qty for s, e in sorted(self.executors.items()) if e.position.qty}

    def unresolved(self) -> int:
        return sum(len(e.unresolved()) for e in self.executors.values())

    def stop(self) -> None:
        self._scope.cancel()


@asynccontextmanager
async def open_daemon(
    config: Config, credentials: Credentials, *, journal_path: str
) -> AsyncIterator[Daemon]:
    async with open_journal(journal_path) as journal, trio.open_nursery() as venue_nursery:
        venue = None
        base_url, stream_url, data_url = (
            config.broker.base_url,
            config.broker.stream_url,
            config.broker.data_url,
        )
        if config.broker.kind == "paper" and base_url is None:
            venue = await venue_nursery.start(serve_sim, SimConfig())
            base_url, stream_url, data_url = venue.alpaca_url, venue.stream_url, venue.data_url
        if base_url is None or stream_url is None or data_url is None:
            raise ValueError("broker base_url, stream_url and data_url are required")
        key_id, secret = credentials.key_id.reveal(), credentials.secret_key.reveal()

        async def audit(call: VenueCall) -> None:
            await journal.append(VenueCallRecorded(at=call.at, call=call))

        broker = AlpacaBroker(
            base_url=base_url, stream_url=stream_url, key_id=key_id, secret_key=secret, audit=audit
        )
        market_data = AlpacaMarketData(data_url=data_url, key_id=key_id, secret_key=secret)
        # Inner layers stop first: actors, then the adapter's connections, then the venue.
        async with broker:
            async with trio.open_nursery() as actors:
                daemon = await _start_actors(actors, journal, broker, market_data, venue)
                try:
                    yield daemon
                finally:
                    actors.cancel_scope.cancel()
        venue_nursery.cancel_scope.cancel()


async def _start_actors(
    root: trio.Nursery,
    journal: Journal,
    broker: AlpacaBroker,
    market_data: AlpacaMarketData,
    venue: SimEndpoints | None,
) -> Daemon:
    journal_positions = {s: p.qty for s, p in (await journal.positions()).items()}
    startup = await load_startup_state(broker, journal_positions)
    log.info(
        "startup gate: %d positions, buying power %s, %d tradable symbols, %d drifts",
        len(startup.positions),
        startup.account.buying_power,
        len(startup.tradable),
        len(startup.drifts),
    )
    prices = PriceBook()
    risk_send, risk_recv = trio.open_memory_channel[RiskInput](ACTOR_INBOX)
    monitor_send, monitor_recv = trio.open_memory_channel[MonitorInput](ACTOR_INBOX)
    reconciler_send, reconciler_recv = trio.open_memory_channel[OrderUpdate](ACTOR_INBOX)
    router_send, router_recv = trio.open_memory_channel[Inbound](ACTOR_INBOX)

    risk = RiskGuardCore(RiskLimits(), prices)
    risk.set_account(startup.account)
    await root.start(run_risk_guard, risk, risk_recv)
    await root.start(run_reconciler, reconciler_recv)
    await root.start(
        run_order_monitor,
        broker,
        OrderMonitorCore(),
        monitor_send,
        monitor_recv,
        Subscribers(risk=risk_send, reconciler=reconciler_send),
    )
    await root.start(run_price_feed, market_data, prices, ["*"])

    activity = Activity()
    executors: dict[str, SymbolExecutor] = {}
    deps = ExecutorDeps(broker, journal, risk_send, monitor_send, activity)
    executor_nursery = await root.start(_hold_nursery)

    async def spawn_executor(symbol: str) -> trio.MemorySendChannel[Any]:
        position = startup.positions.get(symbol)
        core = SymbolExecutor(
            symbol,
            ConfirmedPosition(position.qty, position.avg_entry_price)
            if position
            else ConfirmedPosition(),
        )
        inbox_send, inbox_recv = trio.open_memory_channel[ExecutorInput](INBOX_SIZE)
        await executor_nursery.start(run_executor, core, inbox_send, inbox_recv, deps)
        executors[symbol] = core
        return inbox_send

    router = SignalRouterCore(tradable=startup.tradable)
    router.remember(await journal.accepted_signal_ids())
    await root.start(
        run_signal_router, router, router_recv, journal, spawn_executor, sorted(startup.positions)
    )
    return Daemon(
        intake=Intake(router_send),
        activity=activity,
        journal=journal,
        broker=broker,
        prices=prices,
        executors=executors,
        startup=startup,
        venue=venue,
        scope=root.cancel_scope,
    )


async def _hold_nursery(*, task_status: trio.TaskStatus[trio.Nursery]) -> None:
    """A nursery for tasks spawned later (executors), living as long as its parent."""
    async with trio.open_nursery() as nursery:
        task_status.started(nursery)
        await trio.sleep_forever()
