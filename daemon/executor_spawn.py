"""Executors, one per symbol, spawned on demand by the SignalRouter (and at startup for every
symbol with state): each starts from the venue's position, the journal's realized P&L, the
venue's open orders and the exits that guarded it when the last run ended."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import trio

from actors.executor.core import SymbolExecutor
from actors.executor.effects import ExecutorInput
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.executor.task import INBOX_SIZE, ExecutorDeps, run_executor
from actors.messages import CancelEntries, ResendIntent
from actors.position import ConfirmedPosition
from actors.reconciler import LiveOrder, StartupState, VenueView, WorkingOrder
from brokers.errors import BrokerError

if TYPE_CHECKING:
    from actors.activity import Activity
    from actors.records import ProtectionRecorded
    from brokers.base import Asset, Broker, VenueOrder
    from daemon.config import ExecutorConfig

log = logging.getLogger("tradingd")


class Executors(Mapping[str, SymbolExecutor]):
    """The running executors by symbol, read-only (each executor's task is the only writer
    of its core), with the named queries the Reconciler, the router and the operator ask."""

    def __init__(self) -> None:
        self._cores: dict[str, SymbolExecutor] = {}
        self._inboxes: dict[str, trio.MemorySendChannel[ExecutorInput]] = {}

    def __getitem__(self, symbol: str) -> SymbolExecutor:
        return self._cores[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cores)

    def __len__(self) -> int:
        return len(self._cores)

    def add(
        self, symbol: str, core: SymbolExecutor, inbox: trio.MemorySendChannel[ExecutorInput]
    ) -> None:
        """A newly spawned executor (the spawner's only)."""
        self._cores[symbol] = core
        self._inboxes[symbol] = inbox

    def holdings(self) -> dict[str, Decimal]:
        """Every executor's confirmed position, flat ones included."""
        return {symbol: e.position.qty for symbol, e in self._cores.items()}

    def positions(self) -> dict[str, Decimal]:
        """Each symbol's confirmed position, flat ones left out, by symbol."""
        return {s: e.position.qty for s, e in sorted(self._cores.items()) if e.position.qty}

    def follows(self, symbol: str, client_order_id: str) -> bool:
        core = self._cores.get(symbol)
        return core is not None and core.order(client_order_id) is not None

    def live_orders(self) -> list[LiveOrder]:
        return [
            LiveOrder(
                client_order_id=o.client_order_id,
                symbol=symbol,
                state=o.state.value,
                filled_qty=o.filled_qty,
            )
            for symbol, e in self._cores.items()
            for o in e.unresolved()
        ]

    def working_orders(self) -> list[WorkingOrder]:
        """Every order an executor follows that may still fill, and what it has left."""
        return [
            WorkingOrder(
                client_order_id=o.client_order_id,
                symbol=symbol,
                side=o.request.side,
                unfilled=o.request.qty - o.filled_qty,
            )
            for symbol, e in self._cores.items()
            for o in e.unresolved()
        ]

    def awaiting_outcome(self) -> int:
        """Orders whose final state is not known yet, over every executor."""
        return sum(len(e.awaiting_outcome()) for e in self._cores.values())

    async def cancel_entries(self) -> None:
        """The kill switch at every executor: each cancels its working entries, its exits
        stay; returns once every one has asked the venue."""
        for symbol, inbox in list(self._inboxes.items()):
            done = trio.Event()
            try:
                await inbox.send(CancelEntries(done=done))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                log.warning("halt: the executor of %s has stopped", symbol)
                continue
            await done.wait()

    def inbox(self, symbol: str) -> trio.MemorySendChannel[ExecutorInput] | None:
        return self._inboxes.get(symbol)

    def inboxes(self) -> dict[str, trio.MemorySendChannel[ExecutorInput]]:
        """Every executor's inbox, named for the watchdog."""
        return {f"executor {symbol}": inbox for symbol, inbox in self._inboxes.items()}


@attrs.define
class ExecutorSpawner:
    """Starts a symbol's executor in ``nursery``; registers it in ``executors``."""

    nursery: trio.Nursery
    deps: ExecutorDeps
    config: ExecutorConfig
    startup: StartupState
    # The Reconciler keeps the venue's latest positions: an executor starts there.
    venue_view: VenueView
    realized: dict[str, Decimal]
    finished_unknown: dict[str, list[VenueOrder]]
    open_protections: dict[str, ProtectionRecorded]
    executors: Executors

    @property
    def activity(self) -> Activity:
        return self.deps.activity

    async def __call__(self, symbol: str) -> trio.MemorySendChannel[ExecutorInput]:
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
        self.executors.add(symbol, core, inbox_send)
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
