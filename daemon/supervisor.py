"""The supervisor: builds the daemon's layers, one nursery each, in dependency order.

    journal ─ venue (embedded paper venue, when configured) ─ broker adapter
        └─ actors: RiskGuard, Reconciler, OrderMonitor, price feed
              └─ executors (spawned on demand by the SignalRouter) ─ SignalRouter

Nothing is accepted before the startup gate (the Reconciler's reads of the venue) has
passed (``daemon.startup.gate``); executors are spawned by ``daemon.executor_spawn``; the
running daemon as its users see it is ``daemon.running``. Each actor is started by its own
``start_*`` and known to the others only by the handle that returns (named read-only
queries), never by its core. A crashing actor takes the whole daemon down with its error:
running half-alive is worse than a restart, and startup reconciliation makes the restart safe.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

import attrs
import msgspec
import trio

from actors.activity import Activity
from actors.executor.task import ExecutorDeps
from actors.messages import RouterInput
from actors.monitor import (
    MonitorHandle,
    MonitorInbox,
    MonitorTimers,
    Subscribers,
    open_monitor_inbox,
    start_order_monitor,
)
from actors.patient_reads import PatientReads
from actors.prices import PriceBook
from actors.reconciler import (
    CorrectionBook,
    DriftWatch,
    ReconcilerDeps,
    ReconcilerHandle,
    StartupDrifts,
    VenueView,
    start_reconciler,
)
from actors.records import VenueCallRecorded
from actors.risk import RiskGuardCore, RiskHandle, start_risk_guard
from actors.router import Intake, RouterHandle, SignalRouterCore, start_signal_router
from actors.router.rebalance import RebalanceBook, run_rebalance
from brokers.alpaca import AlpacaBroker
from brokers.alpaca.marketdata import AlpacaMarketData
from brokers.base import Broker, MarketData, VenueCall, utc_now
from brokers.budget import RequestBudget, VenueBudget
from brokers.sim import SimConfig, SimEndpoints, serve_sim
from daemon.executor_spawn import Executors, ExecutorSpawner, hold_nursery, trade_increments
from daemon.journal.store import Journal, open_journal
from daemon.price_feed import run_price_feed
from daemon.running import Daemon
from daemon.startup.front import Front
from daemon.startup.gate import (
    GatePassed,
    pass_startup_gate,
    queued_correction,
    restore_risk_state,
)
from daemon.startup.holding_intake import HoldingIntake
from daemon.startup.replay import unfinished_signals, wait_priced

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from daemon.config import Config
    from daemon.credentials import Credentials

__all__ = ["Daemon", "open_daemon"]

log = logging.getLogger("tradingd")

ACTOR_INBOX = 256

RouterChannel = tuple[trio.MemorySendChannel[RouterInput], trio.MemoryReceiveChannel[RouterInput]]


@attrs.frozen
class _Venue:
    """The venue as the actors reach it: only through the protocols of ``brokers.base``."""

    broker: Broker
    market_data: MarketData
    endpoints: SimEndpoints | None  # the embedded paper venue, when it runs


@asynccontextmanager
async def open_daemon(
    config: Config, credentials: Credentials, *, journal_path: str, front: Front | None = None
) -> AsyncIterator[Daemon]:
    """The daemon, once the startup gate has passed; ``front`` gets the intake as soon as
    the journal is open (signals are held until the gate passes) and hears of every wait."""
    front = front or Front()
    async with (
        open_journal(journal_path) as journal,
        _open_venue(config, credentials, journal) as venue,
        trio.open_nursery() as actors,
    ):
        router_channel = trio.open_memory_channel[RouterInput](ACTOR_INBOX)
        holding = await _start_holding(actors, journal, config, router_channel[0], front)
        gate = await pass_startup_gate(journal, PatientReads(venue.broker, front.on_wait))
        daemon = await _start_actors(
            actors, journal, venue, config, gate, front, router_channel, holding
        )
        front.ready(daemon)
        try:
            yield daemon
        finally:
            actors.cancel_scope.cancel()


@asynccontextmanager
async def _open_venue(
    config: Config, credentials: Credentials, journal: Journal
) -> AsyncIterator[_Venue]:
    """The one place that picks the venue: the embedded paper venue (when configured
    without a URL) and the Alpaca adapter that speaks to either. Inner layers stop first:
    the actors, then the adapter's connections, then the venue."""
    async with trio.open_nursery() as venue_nursery:
        endpoints = None
        base_url, stream_url, data_url = (
            config.broker.base_url,
            config.broker.stream_url,
            config.broker.data_url,
        )
        key_id, secret = credentials.key_id.reveal(), credentials.secret_key.reveal()
        if config.broker.kind == "paper" and base_url is None:
            # The embedded venue takes the daemon's own keys: it refuses any others.
            venue_config = SimConfig(key_id=key_id, secret_key=secret)
            endpoints = await venue_nursery.start(serve_sim, venue_config)
            base_url, stream_url, data_url = (
                endpoints.alpaca_url,
                endpoints.stream_url,
                endpoints.data_url,
            )
        if base_url is None or stream_url is None or data_url is None:
            raise ValueError("broker base_url, stream_url and data_url are required")

        async def audit(call: VenueCall) -> None:
            await journal.append(VenueCallRecorded(at=call.at, call=call))

        broker = AlpacaBroker(
            base_url=base_url,
            stream_url=stream_url,
            key_id=key_id,
            secret_key=secret,
            audit=audit,
            budget=_request_budget(config),
        )
        market_data = AlpacaMarketData(data_url=data_url, key_id=key_id, secret_key=secret)
        async with broker:
            yield _Venue(broker, market_data, endpoints)
        venue_nursery.cancel_scope.cancel()


def _request_budget(config: Config) -> VenueBudget | None:
    """One budget for every REST call to the venue; look-ups at most their share of it."""
    per_minute = config.broker.requests_per_minute
    if per_minute == "unlimited":
        return None
    lookups = config.monitor.lookups_per_second
    return VenueBudget(RequestBudget.per_minute(per_minute, lookups_per_second=lookups))


async def _start_holding(
    root: trio.Nursery,
    journal: Journal,
    config: Config,
    router: trio.MemorySendChannel[RouterInput],
    front: Front,
) -> HoldingIntake:
    """Signals are taken (and journaled) from the start, and held until the gate passes."""
    hold_send, hold_recv = trio.open_memory_channel[RouterInput](ACTOR_INBOX)
    holding = HoldingIntake(journal, router, config.risk.sizing is not None)
    holding.remember(await journal.accepted_signal_ids())
    await root.start(holding.run, hold_recv)
    front.open(Intake(hold_send), lambda: holding.held)
    return holding


@attrs.frozen
class _Wiring:
    """What every actor's start takes from the layers below: one nursery for them all."""

    root: trio.Nursery
    journal: Journal
    broker: Broker
    config: Config
    gate: GatePassed
    front: Front
    prices: PriceBook = attrs.field(factory=PriceBook)
    activity: Activity = attrs.field(factory=Activity)


async def _start_actors(
    root: trio.Nursery,
    journal: Journal,
    venue: _Venue,
    config: Config,
    gate: GatePassed,
    front: Front,
    router_channel: RouterChannel,
    holding: HoldingIntake,
) -> Daemon:
    """Every actor, each by its ``start_*``, wired to the others' handles."""
    w = _Wiring(root, journal, venue.broker, config, gate, front)
    intake = Intake(router_channel[0])
    risk = await _start_risk(w)
    executors = Executors()
    # The Reconciler keeps the venue's latest positions; executors spawned later start there.
    venue_view = VenueView(dict(gate.startup.positions))
    # Opened first: the Reconciler hands the monitor the venue's word on orders, and the
    # monitor, started after it, tells it of every update.
    monitor_inbox = open_monitor_inbox()
    reconciler = await _start_reconciler(w, executors, venue_view, risk, intake, monitor_inbox)
    timers = MonitorTimers(**msgspec.structs.asdict(config.monitor))
    subscribers = Subscribers(risk=risk.inbox, reconciler=reconciler.inbox)
    monitor = await start_order_monitor(root, w.broker, timers, subscribers, monitor_inbox)
    await root.start(run_price_feed, venue.market_data, w.prices, ["*"])
    spawn = await _executor_spawner(w, risk, monitor, venue_view, executors)
    router = await _start_router(w, risk, executors, spawn, intake, router_channel[1], holding)
    return Daemon(
        intake=intake,
        router=router,
        activity=w.activity,
        journal=journal,
        broker=w.broker,
        prices=w.prices,
        executors=executors,
        startup=gate.startup,
        venue=venue.endpoints,
        monitor=monitor,
        risk=risk,
        reconciler=reconciler,
        scope=root.cancel_scope,
    )


async def _start_risk(w: _Wiring) -> RiskHandle:
    """RiskGuard, from the venue's account and positions and the journal's halt and latch."""
    startup = w.gate.startup
    core = RiskGuardCore(w.config.risk, w.prices, startup.assets)
    # The clock read waits out the venue's trouble, as the gate's reads do.
    await restore_risk_state(core, w.journal, PatientReads(w.broker, w.front.on_wait))
    core.set_account(startup.account, trio.current_time(), utc_now())
    core.load_positions({symbol: p.qty for symbol, p in startup.positions.items()})
    # Entries wait for OrderMonitor's word that the stream is up, when so configured.
    core.set_stream_health(False)
    state = core.state_record(utc_now())
    if state is not None:
        await w.journal.commit(state)
    return await start_risk_guard(w.root, core, w.broker, journal=w.journal)


async def _start_reconciler(
    w: _Wiring,
    executors: Executors,
    venue_view: VenueView,
    risk: RiskHandle,
    intake: Intake,
    monitor_inbox: MonitorInbox,
) -> ReconcilerHandle:
    """The Reconciler, with the drift and correction ids and queued corrections restored."""
    reconcile = w.config.reconcile
    book = CorrectionBook(mode=reconcile.mode, auto_limit=reconcile.auto_limit)
    ids = await w.journal.reconciliation_ids()
    queued = await w.journal.corrections(status="queued", limit=10_000)
    book.restore(ids.drift, ids.correction, [queued_correction(row) for row in queued])
    watch = DriftWatch(
        interval=reconcile.interval,
        after_final=reconcile.after_final,
        notional_tolerance=reconcile.tolerance,
    )
    deps = ReconcilerDeps(
        broker=w.broker,
        journal=w.journal,
        monitor=monitor_inbox[0],
        intake=intake,
        executors=executors,
        view=venue_view,
        started_at=w.gate.started_at,
        # Fresh by the limits as reloaded (SIGHUP), not as they were at startup.
        prices=risk,
    )
    rows = w.gate.journal_rows
    drifts = StartupDrifts(
        drifts=w.gate.startup.drifts,
        journal_prices={s: p.avg_entry_price for s, p in rows.items()},
        fresh_journal=not rows,
    )
    return await start_reconciler(w.root, deps, watch, book, drifts)


async def _executor_spawner(
    w: _Wiring,
    risk: RiskHandle,
    monitor: MonitorHandle,
    venue_view: VenueView,
    executors: Executors,
) -> ExecutorSpawner:
    """What the router calls to start a symbol's executor, in a nursery of their own."""
    deps = ExecutorDeps(w.broker, w.journal, risk.inbox, monitor.inbox, w.activity, w.prices)
    # Exits that guarded a position when the last run ended: re-armed in its executor.
    open_protections = {p.symbol: p for p in await w.journal.open_protections()}
    return ExecutorSpawner(
        nursery=await w.root.start(hold_nursery),
        deps=deps,
        config=w.config.executor,
        startup=w.gate.startup,
        venue_view=venue_view,
        realized=w.gate.realized,
        finished_unknown=w.gate.finished_unknown,
        open_protections=open_protections,
        executors=executors,
    )


async def _start_router(
    w: _Wiring,
    risk: RiskHandle,
    executors: Executors,
    spawn: ExecutorSpawner,
    intake: Intake,
    inbox: trio.MemoryReceiveChannel[RouterInput],
    holding: HoldingIntake,
) -> RouterHandle:
    """The SignalRouter, once the held signals are journaled, replaying the unfinished."""
    startup = w.gate.startup
    # RiskGuard's current limits, read-only: a SIGHUP reload may add or drop the policy.
    router = SignalRouterCore(tradable=startup.tradable, sized_entries=risk.sized_entries)
    # Held signals are journaled by the time holding stops: the ids and the replay below
    # include every one, and any later line goes on to the router.
    held_at = await holding.stop_holding()
    router.remember(await w.journal.accepted_signal_ids())
    replay = await unfinished_signals(
        w.journal,
        sized_entries=risk.sized_entries(),
        max_hold=w.config.sources.max_hold,
        held_at=held_at,
    )
    rebalance_book = RebalanceBook(
        equity=risk.equity,
        price=risk.fresh_price,
        positions=executors.holdings,
        increments=partial(trade_increments, startup.assets),
        wait_settled=w.activity.wait_symbols_idle,
        intake=intake,
        journal=w.journal,
        wait_priced=partial(wait_priced, w.prices),
    )
    return await start_signal_router(
        w.root,
        router,
        inbox,
        intake,
        w.journal,
        spawn,
        startup.symbols_with_state(),
        partial(run_rebalance, rebalance_book),
        replay,
        activity=w.activity,
    )
