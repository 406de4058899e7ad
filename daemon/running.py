"""The running daemon as the CLI, the control socket and summaries see it: its front door,
the actors' handles (read-only views of their state), and the operator's commands."""

from __future__ import annotations

import logging
from decimal import Decimal
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

ZERO = Decimal(0)

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
        """The kill switch: deny new entries from now on and cancel the working ones; the
        exits guarding open positions stay (a halt that removed the stops would leave the
        positions unguarded), and so they do across a restart. With ``flatten``, close every
        position too: one ``close`` signal per symbol, journaled as the step, which that
        symbol's executor works whole (its exits canceled, the close sent once they are out
        of the way: Alpaca refuses a close while exits hold the quantity). A venue with a
        liquidate of its own (Tradovate's ``liquidateposition``) would take that step in
        the executor instead. The halt is in force before any venue call, so a venue error
        here leaves it halted."""
        await self.risk.halt()
        await self.executors.cancel_entries()
        await self._cancel_outside_entries()
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
                log.warning(
                    "halt: flatten %s as signal %s: %s %s",
                    symbol,
                    signal_id,
                    ack.status,
                    ack.reason or "",
                )

    async def _cancel_outside_entries(self) -> None:
        """Open orders no executor follows (placed outside tradingd) that could add to a
        position are canceled too; one that only reduces the position stays, like ours."""
        try:
            orders = await list_open_orders(self.broker)
        except BrokerError as exc:
            log.warning("halt: the venue's open orders could not be read: %s", exc)
            return
        held = self.executors.holdings()
        for order in orders:
            if self.executors.follows(order.symbol, order.client_order_id):
                continue  # its executor decides (above)
            position = held.get(order.symbol, ZERO)
            if position and order.side.sign * position < 0 and order.qty <= abs(position):
                continue  # an exit of the position: it stays
            try:
                await self.broker.cancel_order(order.venue_order_id)
            except BrokerError as exc:
                # Usually it just filled; a close (or the next halt) covers the rest.
                log.warning("halt: cannot cancel %s: %s", order.client_order_id, exc)
            else:
                log.warning(
                    "halt: canceled outside order %s (%s %s %s)",
                    order.client_order_id or order.venue_order_id,
                    order.side,
                    order.qty,
                    order.symbol,
                )

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
