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
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import attrs
import msgspec
import trio

from actors.activity import Activity
from actors.brackets import ProtectionFailurePolicy
from actors.correction_apply import ApprovalResult
from actors.corrections import CorrectionBook
from actors.executor import INBOX_SIZE, ExecutorDeps, run_executor
from actors.executor_core import ExecutorInput, ResendIntent, SymbolExecutor
from actors.messages import BadSignal, parse_signal
from actors.open_orders import list_open_orders
from actors.order_diff import LiveOrder
from actors.order_monitor import (
    MonitorInput,
    MonitorTimers,
    OrderMonitorCore,
    Subscribers,
    run_order_monitor,
)
from actors.position import ConfirmedPosition
from actors.prices import PriceBook
from actors.protection_keeper import ProtectionKeeper
from actors.rebalance import RebalanceBook, run_rebalance
from actors.reconciler import (
    RESEND_WINDOW,
    DriftWatch,
    PendingFlip,
    PendingIntent,
    StartupState,
    load_startup_state,
)
from actors.reconciler_deps import ReconcilerDeps, VenueView
from actors.reconciler_task import (
    ApproveCorrection,
    ReconcilerInput,
    ReconciliationReport,
    RunReconciliation,
    StartupDrifts,
    ask_reconciler,
    run_reconciler,
)
from actors.records import CorrectionRecorded, VenueCallRecorded
from actors.risk_core import RiskGuardCore
from actors.risk_guard import Halt, Resume, RiskInput, SetLimits, read_clock, run_risk_guard
from actors.risk_limits import RiskLimits
from actors.signal_router import Inbound, Intake, SignalRouterCore, run_signal_router
from brokers.alpaca import AlpacaBroker
from brokers.alpaca.marketdata import AlpacaMarketData
from brokers.base import Asset, VenueCall, VenueOrder, utc_now
from brokers.errors import BrokerError
from brokers.sim import SimConfig, SimEndpoints, serve_sim
from daemon.config import Config, ExecutorConfig, MonitorConfig, ReconcileConfig
from daemon.credentials import Credentials
from daemon.journal import Journal, open_journal
from daemon.journal_reconciliation import CorrectionRow
from daemon.price_feed import run_price_feed
from daemon.startup_catchup import missed_fill_records, orders_the_journal_lacks
from daemon.startup_replay import unfinished_signals, wait_priced

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
    monitor: OrderMonitorCore
    risk: RiskGuardCore  # read-only outside RiskGuard's task
    risk_inbox: trio.MemorySendChannel[RiskInput]
    _scope: trio.CancelScope
    # Every other actor's inbox by name, so the watchdog can tell a stuck actor.
    inboxes: dict[str, trio.MemorySendChannel[Any]] = attrs.field(factory=dict)

    def positions(self) -> dict[str, Decimal]:
        """Each symbol's confirmed position, as its executor holds it (flat ones left out)."""
        return {s: e.position.qty for s, e in sorted(self.executors.items()) if e.position.qty}

    @property
    def stream_healthy(self) -> bool:
        """The order stream is connected and re-synced: updates arrive as they happen."""
        return self.monitor.healthy

    def unresolved(self) -> int:
        return sum(len(e.awaiting_outcome()) for e in self.executors.values())

    def stop(self) -> None:
        self._scope.cancel()

    async def halt(self, flatten: bool = False) -> None:
        """The kill switch: deny new entries from now on and cancel every open order; with
        ``flatten``, close every position too (a ``close`` signal per symbol). The halt is in
        force before any venue call, so a venue error here leaves it halted."""
        done = trio.Event()
        await self.risk_inbox.send(Halt(done=done))
        await done.wait()
        for order in await list_open_orders(self.broker):
            try:
                await self.broker.cancel_order(order.venue_order_id)
            except BrokerError as exc:
                # Usually it just filled; a close below (or the next halt) covers the rest.
                log.warning("halt: cannot cancel %s: %s", order.client_order_id, exc)
        if flatten:
            stamp = utc_now().strftime("%Y%m%dT%H%M%S%f")
            for symbol in self.positions():
                signal = {"id": f"halt-{stamp}-{symbol}", "action": "close", "symbol": symbol}
                ack = await self.intake.submit(msgspec.json.encode(signal), "halt")
                log.warning("halt: flatten %s: %s %s", symbol, ack.status, ack.reason or "")

    async def reconcile(self) -> ReconciliationReport:
        """A full comparison with the venue now; drifts it confirms are handled per mode."""
        report: ReconciliationReport = await ask_reconciler(
            self.inboxes["reconciler"], lambda reply: RunReconciliation(reply=reply)
        )
        return report

    async def approve(self, correction_id: int) -> ApprovalResult:
        """Apply one queued correction (a second approval finds it no longer queued)."""
        result: ApprovalResult = await ask_reconciler(
            self.inboxes["reconciler"],
            lambda reply: ApproveCorrection(correction_id=correction_id, reply=reply),
        )
        return result

    async def resume(self) -> None:
        """Lift a halt and a daily-loss latch: new entries are decided normally again."""
        done = trio.Event()
        await self.risk_inbox.send(Resume(done=done))
        await done.wait()

    async def reload_risk_limits(self, limits: RiskLimits) -> None:
        """Hand RiskGuard new limits (already validated); later decisions use them."""
        await self.risk_inbox.send(SetLimits(limits=limits))


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
                daemon = await _start_actors(
                    actors,
                    journal,
                    broker,
                    market_data,
                    venue,
                    config.monitor,
                    config.risk,
                    config.reconcile,
                    executor_config=config.executor,
                )
                try:
                    yield daemon
                finally:
                    actors.cancel_scope.cancel()
        venue_nursery.cancel_scope.cancel()


async def _pending_flips(journal: Journal, since: datetime) -> list[PendingFlip]:
    """Orders across zero the last run left between their legs."""
    flips = []
    for row in await journal.flat_legs_without_open(since):
        try:
            signal = parse_signal(row.signal_raw, sized_entries=True)
        except BadSignal as exc:
            log.warning("order across zero %s not resumed: %s", row.request.client_order_id, exc)
            continue
        flips.append(PendingFlip(signal=signal, request=row.request, created_at=row.created_at))
    return flips


async def _start_actors(
    root: trio.Nursery,
    journal: Journal,
    broker: AlpacaBroker,
    market_data: AlpacaMarketData,
    venue: SimEndpoints | None,
    monitor_config: MonitorConfig,
    risk_limits: RiskLimits,
    reconcile_config: ReconcileConfig | None = None,
    *,
    executor_config: ExecutorConfig,
) -> Daemon:
    reconcile = reconcile_config or ReconcileConfig()
    journal_rows = await journal.positions()
    journal_positions = {s: p.qty for s, p in journal_rows.items()}
    intents = [
        PendingIntent(request=row.request, created_at=row.created_at)
        for row in await journal.unresolved_intents()
    ]
    started_at = utc_now()
    unfinished = await journal.unresolved_orders()
    last_record_at = await journal.last_record_at()
    flips = await _pending_flips(journal, started_at - RESEND_WINDOW)
    # What became of the last run's unfinished orders, as the venue tells it, the orders
    # it sent whose intents never became durable, and the fills the journal never saw.
    # The two reads are independent: side by side.
    unknown: list[VenueOrder] = []

    async def read_unknown() -> None:
        unknown.extend(await orders_the_journal_lacks(broker, journal, last_record_at))

    async with trio.open_nursery() as reads:
        reads.start_soon(read_unknown)
        startup = await load_startup_state(broker, journal_positions, intents, flips)
    caught_up = await missed_fill_records(journal, unfinished, unknown, startup)
    if startup.intents.records or caught_up:
        await journal.commit(*startup.intents.records, *caught_up)
    log.info(
        "startup gate: %d positions, buying power %s, %d tradable symbols, %d drifts",
        len(startup.positions),
        startup.account.buying_power,
        len(startup.tradable),
        len(startup.drifts),
    )
    # Realized P&L is ours to keep (the venue reports none per position): carried over.
    realized = {s: p.realized_pnl for s, p in (await journal.positions()).items()}
    finished_unknown: dict[str, list[VenueOrder]] = {}
    for order in unknown:
        if order.status.is_final:
            finished_unknown.setdefault(order.symbol, []).append(order)
    prices = PriceBook()
    risk_send, risk_recv = trio.open_memory_channel[RiskInput](ACTOR_INBOX)
    monitor_send, monitor_recv = trio.open_memory_channel[MonitorInput](ACTOR_INBOX)
    reconciler_send, reconciler_recv = trio.open_memory_channel[ReconcilerInput](ACTOR_INBOX)
    router_send, router_recv = trio.open_memory_channel[Inbound](ACTOR_INBOX)

    assets = startup.assets
    risk = RiskGuardCore(risk_limits, prices, assets)
    await _restore_risk_state(risk, journal, broker)
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

    def executor_positions() -> dict[str, Decimal]:
        return {symbol: e.position.qty for symbol, e in executors.items()}

    # The Reconciler keeps the venue's latest positions; executors spawned later start there.
    venue_view = VenueView(dict(startup.positions))
    book = CorrectionBook(mode=reconcile.mode, auto_limit=reconcile.auto_limit)
    ids = await journal.reconciliation_ids()
    queued = await journal.corrections(status="queued", limit=10_000)
    book.restore(ids.drift, ids.correction, [_queued_correction(row) for row in queued])
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
            started_at=started_at,
            last_price=lambda symbol: prices.last(
                symbol, trio.current_time(), risk_limits.max_price_age
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
    executor_nursery = await root.start(_hold_nursery)
    inboxes: dict[str, trio.MemorySendChannel[Any]] = {
        "monitor": monitor_send,
        "reconciler": reconciler_send,
    }

    async def spawn_executor(symbol: str) -> trio.MemorySendChannel[Any]:
        position = venue_view.positions.get(symbol)
        pnl = realized.get(symbol, Decimal(0))
        core = SymbolExecutor(
            symbol,
            ConfirmedPosition(position.qty, position.avg_entry_price, pnl)
            if position
            else ConfirmedPosition(realized_pnl=pnl),
            protection=ProtectionKeeper(
                symbol,
                ProtectionFailurePolicy(executor_config.protection_failure),
                emulate=executor_config.brackets == "emulated",
            ),
            supersede_queued=executor_config.queued == "supersede",
        )
        for order in startup.open_orders.get(symbol, ()):
            core.adopt(order)
        for order in finished_unknown.get(symbol, ()):
            core.remember(order)
        protection = open_protections.pop(symbol, None)
        if protection is not None:
            core.protection.restore(protection)
            await _adopt_exits(broker, core, protection.exits)
        inbox_send, inbox_recv = trio.open_memory_channel[ExecutorInput](INBOX_SIZE)
        await executor_nursery.start(run_executor, core, inbox_send, inbox_recv, deps)
        outcome = startup.intents
        if symbol in {r.symbol for r in outcome.resend} | {r.symbol for r in outcome.resume}:
            # Busy from now: its first steps are in its inbox, and a wait for idle executors
            # must not return before it has taken them.
            activity.report(symbol, idle=False)
        for request in startup.intents.resend:
            if request.symbol == symbol:
                activity.expect_work(symbol)  # so nobody sees it idle before it resends
                await inbox_send.send(ResendIntent(request=request))
        for resume in startup.intents.resume:
            if resume.symbol == symbol:  # after its flat leg's resend, which it waits on
                await inbox_send.send(resume)
        executors[symbol] = core
        inboxes[f"executor {symbol}"] = inbox_send
        return inbox_send

    router = SignalRouterCore(
        tradable=startup.tradable,
        # RiskGuard's current limits, read-only: a SIGHUP reload may add or drop the policy.
        sized_entries=lambda: risk.limits.sizing is not None,
    )
    router.remember(await journal.accepted_signal_ids())
    replay = await unfinished_signals(journal, sized_entries=risk.limits.sizing is not None)
    rebalance_book = RebalanceBook(
        equity=lambda: risk.equity,
        price=lambda symbol: prices.last(symbol, trio.current_time(), risk.limits.max_price_age),
        positions=lambda: {symbol: e.position.qty for symbol, e in executors.items()},
        increments=lambda: _trade_increments(assets),
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


async def _restore_risk_state(risk: RiskGuardCore, journal: Journal, broker: AlpacaBroker) -> None:
    """The halt and the daily-loss latch outlive a restart, until ``tradingd resume``."""
    state = await journal.risk_state()
    if state is not None:
        risk.restore(state)
        if state.halted or state.latched:
            log.warning(
                "risk state from the journal: %s; `tradingd resume` lifts it",
                "halted" if state.halted else f"daily loss latched {state.latched}",
            )
    if risk.needs_clock(utc_now()):
        await read_clock(risk, broker)


def _queued_correction(row: CorrectionRow) -> CorrectionRecorded:
    return CorrectionRecorded(
        at=row.updated_at,
        correction_id=row.id,
        drift_id=row.drift_id,
        symbol=row.symbol,
        cause=row.cause,
        remedy=row.remedy,
        journal_qty=row.journal_qty,
        venue_qty=row.venue_qty,
        target_qty=row.target_qty,
        notional=row.notional,
        status=row.status,
        signal_id=row.signal_id,
        detail=row.detail,
    )


async def _adopt_exits(broker: AlpacaBroker, core: SymbolExecutor, exits: tuple[str, ...]) -> None:
    """Exits the journal names that the startup listing did not bring (a filled bracket's
    legs are listed under their parent, which is no longer open): followed again."""
    for cid in exits:
        if core.order(cid) is not None:
            continue
        try:
            order = await broker.get_order_by_client_id(cid)
        except BrokerError as exc:
            log.warning("%s: exit %s not looked up at startup: %s", core.symbol, cid, exc)
            continue
        if order is not None and not order.status.is_final:
            core.adopt(order)


def _trade_increments(assets: dict[str, Asset]) -> dict[str, Decimal]:
    """Whole shares unless the venue trades the asset in fractions."""
    return {
        symbol: asset.min_trade_increment
        if asset.fractionable and asset.min_trade_increment
        else Decimal(1)
        for symbol, asset in assets.items()
    }


async def _hold_nursery(*, task_status: trio.TaskStatus[trio.Nursery]) -> None:
    """A nursery for tasks spawned later (executors), living as long as its parent."""
    async with trio.open_nursery() as nursery:
        task_status.started(nursery)
        await trio.sleep_forever()
