"""A drift check whose venue reads stall holds up nothing else: the OrderMonitor, which
tells the Reconciler of every update, keeps delivering updates to the executors.

The Reconciler and the OrderMonitor run for real, over the Alpaca adapter, against the
paper venue on loopback; the venue's ``stall_rest`` fault holds the check's first read.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import trio
import trio.testing

from actors.messages import RouterInput
from actors.monitor import (
    MonitorHandle,
    MonitorTimers,
    Subscribers,
    Watch,
    open_monitor_inbox,
    start_order_monitor,
)
from actors.prices import PriceBook
from actors.reconciler import (
    CorrectionBook,
    DriftWatch,
    ReconcilerDeps,
    ReconcilerHandle,
    ReconciliationReport,
    VenueView,
    start_reconciler,
)
from actors.reconciler.task import COMMANDS_QUEUED, INBOX_SIZE
from actors.risk import RiskGuardCore, RiskLimits, start_risk_guard
from actors.router.task import Intake
from brokers.alpaca import AlpacaBroker
from brokers.base import OrderEvent, OrderStatus, OrderUpdate, utc_now
from brokers.sim import SimConfig, SimControl, running_sim
from daemon.executor_spawn import Executors
from daemon.journal.store import open_journal
from tests.builders import request, update

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

# Virtual seconds. The venue holds the read far longer than the adapter's patience is
# set here, and both far longer than the deliveries may take.
STALL = 3600.0
DELIVERY_LIMIT = 60.0
# More updates than the Reconciler's inbox holds, and the monitor's after it: a
# Reconciler that waited on the venue in its inbox loop would stop the monitor well short.
UPDATES = 3 * INBOX_SIZE


def updates() -> list[OrderUpdate]:
    return [
        update(request(f"td-{i}-entry"), OrderEvent.NEW, OrderStatus.NEW, venue_id=f"v-{i}")
        for i in range(UPDATES)
    ]


@attrs.frozen
class Stalled:
    """The Reconciler and the OrderMonitor running, the venue holding its next REST read."""

    reconciler: ReconcilerHandle
    monitor: MonitorHandle
    venue: SimControl
    nursery: trio.Nursery


@asynccontextmanager
async def stalled_venue(tmp_path: Path) -> AsyncIterator[Stalled]:
    async with (
        running_sim(SimConfig(prices={"AAPL": Decimal(100)})) as endpoints,
        SimControl(endpoints) as venue,
        open_journal(str(tmp_path / "journal.db")) as journal,
        AlpacaBroker(
            base_url=endpoints.alpaca_url,
            stream_url=endpoints.stream_url,
            key_id="paper-key-id",
            secret_key="paper-secret-key",
            timeout=2 * STALL,
        ) as broker,
        trio.open_nursery() as nursery,
    ):
        risk = await start_risk_guard(nursery, RiskGuardCore(RiskLimits(), PriceBook(), {}))
        monitor_inbox = open_monitor_inbox()
        router_send, _router_receive = trio.open_memory_channel[RouterInput](1)
        deps = ReconcilerDeps(
            broker=broker,
            journal=journal,
            monitor=monitor_inbox[0],
            intake=Intake(router_send),
            executors=Executors(),
            view=VenueView(),
            started_at=utc_now(),
        )
        reconciler = await start_reconciler(
            nursery, deps, DriftWatch(interval=STALL), CorrectionBook()
        )
        # No lookups of their own while the test runs: the stalled read is the check's.
        timers = MonitorTimers(first_answer=STALL, recheck=STALL, first_connect_grace=5.0)
        monitor = await start_order_monitor(
            nursery,
            broker,
            timers,
            Subscribers(risk=risk.inbox, reconciler=reconciler.inbox),
            monitor_inbox,
        )
        await venue.fault("stall_rest", seconds=STALL, count=1)
        yield Stalled(reconciler, monitor, venue, nursery)
        nursery.cancel_scope.cancel()


async def test_a_stalled_drift_check_does_not_stop_updates_reaching_an_executor(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """While a drift check waits on a stalled venue read, every update reaches its executor."""
    # The journal's thread and the loopback sockets finish before a timer moves past them.
    autojump_clock.autojump_threshold = 0.1
    async with stalled_venue(tmp_path) as stalled:
        reports: list[ReconciliationReport] = []

        async def reconcile() -> None:
            reports.append(await stalled.reconciler.reconcile())

        stalled.nursery.start_soon(reconcile)
        await trio.testing.wait_all_tasks_blocked(cushion=0.05)

        executor_send, executor_receive = trio.open_memory_channel[OrderUpdate](UPDATES)
        with trio.fail_after(DELIVERY_LIMIT):
            for each in updates():
                cid = each.order.client_order_id
                await stalled.monitor.inbox.send(
                    Watch(client_order_id=cid, symbol="AAPL", deliver_to=executor_send)
                )
                await stalled.monitor.inbox.send(each)
            delivered = [await executor_receive.receive() for _ in range(UPDATES)]

        assert [u.order.client_order_id for u in delivered] == [
            u.order.client_order_id for u in updates()
        ]
        # All of it happened while the check still waited on the venue.
        assert reports == []


async def test_commands_beyond_the_queue_are_answered_busy_at_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With a check stalled and the command queue full, one more command is told "busy"."""
    autojump_clock.autojump_threshold = 0.1
    async with stalled_venue(tmp_path) as stalled:
        reports: list[ReconciliationReport] = []

        async def reconcile() -> None:
            reports.append(await stalled.reconciler.reconcile())

        # The first is being worked on (stalled); the queue holds the next ones.
        for _ in range(1 + COMMANDS_QUEUED):
            stalled.nursery.start_soon(reconcile)
            await trio.testing.wait_all_tasks_blocked(cushion=0.05)
        with trio.fail_after(DELIVERY_LIMIT):
            busy = await stalled.reconciler.reconcile()
            approval = await stalled.reconciler.approve(7)
        assert busy.rows == []
        assert "the reconciler is busy" in (busy.error or "")
        assert not approval.ok
        assert "the reconciler is busy" in (approval.detail or "")
        assert reports == []
