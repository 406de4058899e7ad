"""The running daemon as the CLI, the control socket and summaries see it: its front door,
read-only views of the actors' state, and the operator's commands."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import attrs
import trio

from actors.executor.activity import Activity
from actors.executor.core import SymbolExecutor
from actors.messages import (
    Ack,
    Action,
    ApproveCorrection,
    BadSignal,
    Halt,
    Resume,
    RunReconciliation,
    SetLimits,
    build_signal,
)
from actors.monitor.task import OrderMonitorCore
from actors.prices import PriceBook
from actors.reconciler.core import StartupState
from actors.reconciler.correction_apply import ApprovalResult
from actors.reconciler.open_orders import list_open_orders
from actors.reconciler.task import ReconciliationReport, ask_reconciler
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import RiskInput
from actors.router import Intake
from brokers.alpaca import AlpacaBroker
from brokers.base import utc_now
from brokers.errors import BrokerError
from brokers.sim import SimEndpoints
from daemon.journal.store import Journal

log = logging.getLogger("tradingd")

# The source a ``halt --flatten`` close is journaled with.
CONTROL_SOURCE = "control"


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
                signal_id = f"halt-{stamp}-{symbol}"
                try:
                    close = build_signal(id=signal_id, action=Action.CLOSE, symbol=symbol)
                except BadSignal as exc:
                    ack = Ack(id=signal_id, status="rejected", reason=str(exc))
                else:
                    ack = await self.intake.submit_signal(close, CONTROL_SOURCE)
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
