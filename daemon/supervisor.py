"""The supervisor: builds the daemon's layers, one nursery each, in dependency order.

    journal ─ venue (embedded paper venue, when configured) ─ broker adapter
        └─ actors: RiskGuard, Reconciler, OrderMonitor, price feed
              └─ executors (spawned on demand by the SignalRouter) ─ SignalRouter

Nothing is accepted before the startup gate (the Reconciler's reads of the venue) has
passed (``daemon.startup.gate``); executors are spawned by ``daemon.executor_spawn``; the
running daemon as its users see it is ``daemon.running``. A crashing actor takes the
whole daemon down with its error: running half-alive is worse than a restart, and startup
reconciliation makes the restart safe.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec
import trio

from actors.executor.activity import Activity
from actors.executor.core import SymbolExecutor
from actors.executor.task import ExecutorDeps
from actors.messages import RouterInput
from actors.monitor.task import (
    MonitorInput,
    MonitorTimers,
    OrderMonitorCore,
    Subscribers,
    run_order_monitor,
)
from actors.patient_reads import PatientReads
from actors.prices import PriceBook
from actors.reconciler.core import DriftWatch
from actors.reconciler.core_corrections import CorrectionBook
from actors.reconciler.core_order_diff import LiveOrder
from actors.reconciler.task import ReconcilerInput, StartupDrifts, run_reconciler
from actors.reconciler.venue_view import ReconcilerDeps, VenueView
from actors.records import VenueCallRecorded
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import RiskInput, run_risk_guard
from actors.router.core import SignalRouterCore
from actors.router.rebalance import RebalanceBook, run_rebalance
from actors.router.task import Intake, run_signal_router
from brokers.alpaca import AlpacaBroker
from brokers.alpaca.marketdata import AlpacaMarketData
from brokers.base import VenueCall, utc_now
from brokers.sim import SimConfig, SimEndpoints, serve_sim
from daemon.config import Config, ExecutorConfig, MonitorConfig, ReconcileConfig
from daemon.credentials import Credentials
from daemon.executor_spawn import ExecutorSpawner, hold_nursery, trade_increments
from daemon.journal.store import Journal, open_journal
from daemon.price_feed import run_price_feed
from daemon.running import Daemon
from daemon.startup.front import Front
from daemon.startup.gate import pass_startup_gate, queued_correction, restore_risk_state
from daemon.startup.holding_intake import HoldingIntake
from daemon.startup.replay import unfinished_signals, wait_priced

__all__ = ["Daemon", "open_daemon"]

log = logging.getLogger("tradingd")

ACTOR_INBOX = 256


@asynccontextmanager
async def open_daemon(
    config: Config, credentials: Credentials, *, journal_path: str, front: Front | None = None
) -> AsyncIterator[Daemon]:
    """The daemon, once the startup gate has passed; ``front`` gets the intake as soon as
    the journal is open (signals are held until the gate passes) and hears of every wait."""
    front = front or Front()
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
                router_send, router_recv = trio.open_memory_channel[RouterInput](ACTOR_INBOX)
                hold_send, hold_recv = trio.open_memory_channel[RouterInput](ACTOR_INBOX)
                holding = HoldingIntake(journal, router_send, config.risk.sizing is not None)
                holding.remember(await journal.accepted_signal_ids())
                await actors.start(holding.run, hold_recv)
                front.open(Intake(hold_send), lambda: holding.held)
                daemon = await _start_actors(
                    actors,
                    journal,
                    PatientReads(broker, front.on_wait),
                    broker,
                    market_data,
                    venue,
                    config.monitor,
                    config.risk,
                    config.reconcile,
                    executor_config=config.executor,
                    router_channel=(router_send, router_recv),
                    holding=holding,
                    max_hold=config.sources.max_hold,
                )
                front.ready(daemon)
                try:
                    yield daemon
                finally:
                    actors.cancel_scope.cancel()
        venue_nursery.cancel_scope.cancel()


async def _start_actors(
    root: trio.Nursery,
    journal: Journal,
    patient: PatientReads,
    broker: AlpacaBroker,
    market_data: AlpacaMarketData,
    venue: SimEndpoints | None,
    monitor_config: MonitorConfig,
    risk_limits: RiskLimits,
    reconcile_config: ReconcileConfig | None = None,
    *,
    executor_config: ExecutorConfig,
    router_channel: tuple[
        trio.MemorySendChannel[RouterInput], trio.MemoryReceiveChannel[RouterInput]
    ],
    holding: HoldingIntake,
    max_hold: float,
) -> Daemon:
    reconcile = reconcile_config or ReconcileConfig()
    # The gate's reads wait out the venue's trouble (``patient``); the actors' own calls go
    # straight to the adapter and handle its errors themselves.
    gate = await pass_startup_gate(journal, patient)
    startup, journal_rows = gate.startup, gate.journal_rows
    prices = PriceBook()
    risk_send, risk_recv = trio.open_memory_channel[RiskInput](ACTOR_INBOX)
    monitor_send, monitor_recv = trio.open_memory_channel[MonitorInput](ACTOR_INBOX)
    reconciler_send, reconciler_recv = trio.open_memory_channel[ReconcilerInput](ACTOR_INBOX)
    router_send, router_recv = router_channel

    assets = startup.assets
    risk = RiskGuardCore(risk_limits, prices, assets)
    await restore_risk_state(risk, journal, patient)
    risk.set_account(startup.account, trio.current_time(), utc_now())
    risk.load_positions({symbol: p.qty for symbol, p in startup.positions.items()})
    # Entries wait for OrderMonitor's word that the stream is up, when so configured.
    risk.set_stream_health(False)
    state = risk.state_record(utc_now())
    if state is not None:
        await journal.commit(state)
    await root.start(partial(run_risk_guard, journal=journal), risk, risk_recv, broker)
    # Filled in by the router's spawns below; the Reconciler reads the positions it holds.
    executors: dict[str, SymbolExecutor] = {}
    # Every actor's inbox by name (executors' as they are spawned), for the watchdog, and
    # for the Reconciler to hand an executor the fills of outside orders.
    inboxes: dict[str, trio.MemorySendChannel[Any]] = {}

    def executor_positions() -> dict[str, Decimal]:
        return {symbol: e.position.qty for symbol, e in executors.items()}

    # The Reconciler keeps the venue's latest positions; executors spawned later start there.
    venue_view = VenueView(dict(startup.positions))
    book = CorrectionBook(mode=reconcile.mode, auto_limit=reconcile.auto_limit)
    ids = await journal.reconciliation_ids()
    queued = await journal.corrections(status="queued", limit=10_000)
    book.restore(ids.drift, ids.correction, [queued_correction(row) for row in queued])
    watch = DriftWatch(
        interval=reconcile.interval,
        after_final=reconcile.after_final,
        notional_tolerance=reconcile.tolerance,
    )
    await root.start(
        run_reconciler,
        reconciler_recv,
        ReconcilerDeps(
            broker=broker,
            journal=journal,
            monitor=monitor_send,
            intake=Intake(router_send),
            holdings=executor_positions,
            view=venue_view,
            started_at=gate.started_at,
            # The limits as reloaded (SIGHUP), not as they were at startup.
            last_price=lambda symbol: prices.last(
                symbol, trio.current_time(), risk.limits.max_price_age
            ),
            executor_inbox=lambda symbol: inboxes.get(f"executor {symbol}"),
            follows=lambda symbol, cid: (
                symbol in executors and executors[symbol].order(cid) is not None
            ),
            live_orders=lambda: [
                LiveOrder(
                    client_order_id=o.client_order_id,
                    symbol=symbol,
                    state=o.state.value,
                    filled_qty=o.filled_qty,
                )
                for symbol, e in executors.items()
                for o in e.unresolved()
            ],
        ),
        watch,
        book,
        StartupDrifts(
            drifts=startup.drifts,
            journal_prices={s: p.avg_entry_price for s, p in journal_rows.items()},
            fresh_journal=not journal_rows,
        ),
    )
    monitor = OrderMonitorCore(MonitorTimers(**msgspec.structs.asdict(monitor_config)))
    await root.start(
        run_order_monitor,
        broker,
        monitor,
        monitor_send,
        monitor_recv,
        Subscribers(risk=risk_send, reconciler=reconciler_send),
    )
    await root.start(run_price_feed, market_data, prices, ["*"])

    activity = Activity()
    deps = ExecutorDeps(broker, journal, risk_send, monitor_send, activity, prices)
    # Exits that guarded a position when the last run ended: re-armed in its executor.
    open_protections = {p.symbol: p for p in await journal.open_protections()}
    executor_nursery = await root.start(hold_nursery)
    inboxes["monitor"] = monitor_send
    inboxes["reconciler"] = reconciler_send

    spawn_executor = ExecutorSpawner(
        nursery=executor_nursery,
        deps=deps,
        config=executor_config,
        startup=startup,
        venue_view=venue_view,
        realized=gate.realized,
        finished_unknown=gate.finished_unknown,
        open_protections=open_protections,
        executors=executors,
        inboxes=inboxes,
    )

    router = SignalRouterCore(
        tradable=startup.tradable,
        # RiskGuard's current limits, read-only: a SIGHUP reload may add or drop the policy.
        sized_entries=lambda: risk.limits.sizing is not None,
    )
    # Held signals are journaled by the time holding stops: the ids and the replay below
    # include every one, and any later line goes on to the router.
    held_at = await holding.stop_holding()
    router.remember(await journal.accepted_signal_ids())
    replay = await unfinished_signals(
        journal, sized_entries=risk.limits.sizing is not None, max_hold=max_hold, held_at=held_at
    )
    rebalance_book = RebalanceBook(
        equity=lambda: risk.equity,
        price=lambda symbol: prices.last(symbol, trio.current_time(), risk.limits.max_price_age),
        positions=lambda: {symbol: e.position.qty for symbol, e in executors.items()},
        increments=lambda: trade_increments(assets),
        wait_settled=activity.wait_symbols_idle,
        intake=Intake(router_send),
        journal=journal,
        wait_priced=partial(wait_priced, prices),
    )
    await root.start(
        partial(run_signal_router, activity=activity),
        router,
        router_recv,
        journal,
        spawn_executor,
        startup.symbols_with_state(),
        partial(run_rebalance, rebalance_book),
        replay,
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
        monitor=monitor,
        risk=risk,
        risk_inbox=risk_send,
        scope=root.cancel_scope,
        inboxes=inboxes,
    )
