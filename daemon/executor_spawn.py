"""Executors, one per symbol, spawned on demand by the SignalRouter (and at startup for every
symbol with state): each starts from the venue's position, the journal's realized P&L, the
venue's open orders and the exits that guarded it when the last run ended."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import attrs
import trio

from actors.executor.activity import Activity
from actors.executor.core import SymbolExecutor
from actors.executor.effects import ExecutorInput
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.executor.task import INBOX_SIZE, ExecutorDeps, run_executor
from actors.messages import ResendIntent
from actors.position import ConfirmedPosition
from actors.reconciler.core import StartupState
from actors.reconciler.venue_view import VenueView
from actors.records import ProtectionRecorded
from brokers.base import Asset, Broker, VenueOrder
from brokers.errors import BrokerError
from daemon.config import ExecutorConfig

log = logging.getLogger("tradingd")


@attrs.define
class ExecutorSpawner:
    """Starts a symbol's executor in ``nursery``; registers it in ``executors``/``inboxes``."""

    nursery: trio.Nursery
    deps: ExecutorDeps
    config: ExecutorConfig
    startup: StartupState
    # The Reconciler keeps the venue's latest positions: an executor starts there.
    venue_view: VenueView
    realized: dict[str, Decimal]
    finished_unknown: dict[str, list[VenueOrder]]
    open_protections: dict[str, ProtectionRecorded]
    executors: dict[str, SymbolExecutor]
    inboxes: dict[str, trio.MemorySendChannel[Any]]

    @property
    def activity(self) -> Activity:
        return self.deps.activity

    async def __call__(self, symbol: str) -> trio.MemorySendChannel[Any]:
        position = self.venue_view.positions.get(symbol)
        pnl = self.realized.get(symbol, Decimal(0))
        core = SymbolExecutor(
            symbol,
            ConfirmedPosition(position.qty, position.avg_entry_price, pnl)
            if position
            else ConfirmedPosition(realized_pnl=pnl),
            protection=ProtectionKeeper(
                symbol,
                ProtectionFailurePolicy(self.config.protection_failure),
                emulate=self.config.brackets == "emulated",
            ),
            supersede_queued=self.config.queued == "supersede",
        )
        for order in self.startup.open_orders.get(symbol, ()):
            core.adopt(order)
        for order in self.finished_unknown.get(symbol, ()):
            core.remember(order)
        protection = self.open_protections.pop(symbol, None)
        if protection is not None:
            core.protection.restore(protection)
            await _adopt_exits(self.deps.broker, core, protection.exits)
        inbox_send, inbox_recv = trio.open_memory_channel[ExecutorInput](INBOX_SIZE)
        await self.nursery.start(run_executor, core, inbox_send, inbox_recv, self.deps)
        outcome = self.startup.intents
        if symbol in {r.symbol for r in outcome.resend} | {r.symbol for r in outcome.resume}:
            # Busy from now: its first steps are in its inbox, and a wait for idle executors
            # must not return before it has taken them.
            self.activity.report(symbol, idle=False)
        for request in outcome.resend:
            if request.symbol == symbol:
                self.activity.expect_work(symbol)  # so nobody sees it idle before it resends
                await inbox_send.send(ResendIntent(request=request))
        for resume in outcome.resume:
            if resume.symbol == symbol:  # after its flat leg's resend, which it waits on
                await inbox_send.send(resume)
        self.executors[symbol] = core
        self.inboxes[f"executor {symbol}"] = inbox_send
        return inbox_send


async def _adopt_exits(broker: Broker, core: SymbolExecutor, exits: tuple[str, ...]) -> None:
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


def trade_increments(assets: dict[str, Asset]) -> dict[str, Decimal]:
    """Whole shares unless the venue trades the asset in fractions."""
    return {
        symbol: asset.min_trade_increment
        if asset.fractionable and asset.min_trade_increment
        else Decimal(1)
        for symbol, asset in assets.items()
    }


async def hold_nursery(*, task_status: trio.TaskStatus[trio.Nursery]) -> None:
    """A nursery for tasks spawned later (executors), living as long as its parent."""
    async with trio.open_nursery() as nursery:
        task_status.started(nursery)
        await trio.sleep_forever()
