"""The running daemon as the CLI, the control socket and summaries see it: its front door,
the actors' handles (read-only views of their state), and the operator's commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs

from actors.messages import (
    Ack,
    Action,
    BadSignal,
    build_signal,
)
from actors.reconciler import (
    ApprovalResult,
    ReconcilerHandle,
    ReconciliationReport,
    StartupState,
    list_open_orders,
)
from brokers.base import Broker, utc_now
from brokers.errors import BrokerError

if TYPE_CHECKING:
    from decimal import Decimal

    import trio

    from actors.activity import Activity
    from actors.monitor import MonitorHandle
    from actors.prices import PriceBook
    from actors.risk import RiskHandle, RiskInput, RiskLimits
    from actors.router import Intake, RouterHandle
    from brokers.sim import SimEndpoints
    from daemon.executor_spawn import Executors
    from daemon.journal.store import Journal

log = logging.getLogger("tradingd")

# The source a ``halt --flatten`` close is journaled with.
CONTROL_SOURCE = "control"


@attrs.define
class Daemon:
    """A running daemon: its front door, and read-only views for the CLI and summaries."""

    intake: Intake
    router: RouterHandle
    activity: Activity
    journal: Journal
    broker: Broker
    prices: PriceBook
    executors: Executors
    startup: StartupState
    venue: SimEndpoints | None
    monitor: MonitorHandle
    risk: RiskHandle
    reconciler: ReconcilerHandle
    _scope: trio.CancelScope

    @property
    def risk_inbox(self) -> trio.MemorySendChannel[RiskInput]:
        return self.risk.inbox

    @property
    def inboxes(self) -> dict[str, trio.MemorySendChannel[Any]]:
        """Every other actor's inbox by name, so the watchdog can tell a stuck actor."""
        return {
            "monitor": self.monitor.inbox,
            "reconciler": self.reconciler.inbox,
            **self.executors.inboxes(),
        }

    def positions(self) -> dict[str, Decimal]:
        """Each symbol's confirmed position, as its executor holds it (flat ones left out)."""
        return self.executors.positions()

    @property
    def stream_healthy(self) -> bool:
        """The order stream is connected and re-synced: updates arrive as they happen."""
        return self.monitor.healthy

    def unresolved(self) -> int:
        return self.executors.awaiting_outcome()

    def stop(self) -> None:
        self._scope.cancel()

    async def halt(self, flatten: bool = False) -> None:
        """The kill switch: deny new entries from now on and cancel every open order; with
        ``flatten``, close every position too (a ``close`` signal per symbol). The halt is in
        force before any venue call, so a venue error here leaves it halted."""
        await self.risk.halt()
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
        return await self.reconciler.reconcile()

    async def approve(self, correction_id: int) -> ApprovalResult:
        """Apply one queued correction (a second approval finds it no longer queued)."""
        return await self.reconciler.approve(correction_id)

    async def resume(self) -> None:
        """Lift a halt and a daily-loss latch: new entries are decided normally again."""
        await self.risk.resume()

    async def reload_risk_limits(self, limits: RiskLimits) -> None:
        """Hand RiskGuard new limits (already validated); later decisions use them."""
        await self.risk.set_limits(limits)
