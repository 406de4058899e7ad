"""OrderMonitor's loop: owns the broker's order stream and routes each update to whoever
owns it (decisions in ``actors.monitor.core``).

The loop owns the websocket (reconnecting with backoff and jitter), re-syncs in-flight
orders by REST after every (re)connect before calling the stream healthy, runs the lookups,
and forwards updates to the executor, RiskGuard and the Reconciler.
"""

from __future__ import annotations

import logging
from typing import assert_never

import attrs
import trio

from actors.messages import (
    LookupEnded,
    MonitorInput,
    OrderSeen,
    RiskInput,
    StreamDown,
    StreamHealth,
    StreamUp,
    Watch,
)
from actors.monitor.core import MonitorTimers, OrderMonitorCore
from actors.retry import Backoff
from brokers.base import Broker, OrderEvent, OrderUpdate, utc_now
from brokers.errors import AuthenticationFailed, BrokerError, BrokerUnavailable

log = logging.getLogger("tradingd.monitor")


INBOX_SIZE = 256


@attrs.define
class Subscribers:
    """Where every new update goes besides its executor: RiskGuard gets it whole, the
    Reconciler only what it uses of it."""

    risk: trio.MemorySendChannel[RiskInput]
    reconciler: trio.MemorySendChannel[OrderSeen]


@attrs.frozen
class MonitorHandle:
    """The OrderMonitor as others see it: its inbox (executors announce their orders with
    ``Watch``) and whether the order stream is up."""

    inbox: trio.MemorySendChannel[MonitorInput]
    _core: OrderMonitorCore

    @property
    def healthy(self) -> bool:
        """The order stream is connected and re-synced: updates arrive as they happen."""
        return self._core.healthy


MonitorInbox = tuple[trio.MemorySendChannel[MonitorInput], trio.MemoryReceiveChannel[MonitorInput]]


def open_monitor_inbox() -> MonitorInbox:
    """The OrderMonitor's inbox, opened before its task starts: the Reconciler, started
    first (the monitor sends to it), hands it the venue's word on orders too."""
    return trio.open_memory_channel[MonitorInput](INBOX_SIZE)


async def start_order_monitor(
    nursery: trio.Nursery,
    broker: Broker,
    timers: MonitorTimers,
    subscribers: Subscribers,
    inbox: MonitorInbox | None = None,
) -> MonitorHandle:
    """The OrderMonitor's task, started in ``nursery`` (once the stream is up or has had its
    grace); its handle."""
    core = OrderMonitorCore(timers)
    send, receive = inbox or open_monitor_inbox()
    await nursery.start(run_order_monitor, broker, core, send, receive, subscribers)
    return MonitorHandle(send, core)


async def run_order_monitor(
    broker: Broker,
    core: OrderMonitorCore,
    inbox_send: trio.MemorySendChannel[MonitorInput],
    inbox: trio.MemoryReceiveChannel[MonitorInput],
    subscribers: Subscribers,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    first_up = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_keep_stream, broker, core, inbox_send)
        nursery.start_soon(_dispatch_all, broker, core, subscribers, inbox, inbox_send, first_up)
        # Orders go out only once the stream listens (or has had its chance): an event the
        # venue sends before we listen is never replayed.
        with trio.move_on_after(core.timers.first_connect_grace):
            await first_up.wait()
        if not first_up.is_set():
            log.warning("order stream not up yet: starting on REST lookups alone")
        task_status.started()


async def _dispatch_all(
    broker: Broker,
    core: OrderMonitorCore,
    subscribers: Subscribers,
    inbox: trio.MemoryReceiveChannel[MonitorInput],
    inbox_send: trio.MemorySendChannel[MonitorInput],
    first_up: trio.Event,
) -> None:
    async with trio.open_nursery() as lookups, inbox:
        while True:
            msg: MonitorInput | None = None
            with trio.move_on_at(core.next_deadline()):
                msg = await inbox.receive()
            now = trio.current_time()
            if msg is not None:
                await _dispatch(core, subscribers, msg, now)
                if core.healthy:
                    first_up.set()
            for cid in core.due_lookups(now):
                lookups.start_soon(_lookup, broker, cid, inbox_send)


async def _dispatch(
    core: OrderMonitorCore, subscribers: Subscribers, msg: MonitorInput, now: float
) -> None:
    match msg:
        case Watch():
            core.watch(msg, now)
        case OrderUpdate():
            is_new, executor = core.route(msg, now)
            if not is_new:
                return
            if executor is not None:
                await executor.send(msg)
            await subscribers.risk.send(msg)
            await subscribers.reconciler.send(OrderSeen.of(msg))
        case StreamUp():
            core.set_health(True, now)
            log.info("order stream healthy")
            await subscribers.risk.send(StreamHealth(healthy=True))
        case StreamDown():
            core.set_health(False, now)
            log.warning("order stream down: %s", msg.reason)
            await subscribers.risk.send(StreamHealth(healthy=False))
        case LookupEnded():
            core.lookup_done(msg.client_order_id)
        case _:
            assert_never(msg)


async def _lookup(
    broker: Broker, client_order_id: str, inbox: trio.MemorySendChannel[MonitorInput]
) -> None:
    try:
        order = await broker.get_order_by_client_id(client_order_id)
    except BrokerError as exc:
        log.warning("lookup of %s failed: %s", client_order_id, exc)
        order = None
    if order is not None:
        await inbox.send(
            OrderUpdate(event=OrderEvent.SNAPSHOT, order=order, at=utc_now(), source="rest")
        )
    # None: the venue has no such order (yet); its executor's own submit path decides.
    await inbox.send(LookupEnded(client_order_id=client_order_id))


async def _keep_stream(
    broker: Broker, core: OrderMonitorCore, inbox: trio.MemorySendChannel[MonitorInput]
) -> None:
    """Connect, re-sync by REST, stream; on any break, back off and do it again."""
    backoff = Backoff(base=0.2, cap=10.0)
    while True:
        try:
            async with broker.order_updates() as updates:
                await _resync(broker, core, inbox)
                await inbox.send(StreamUp())
                backoff.attempts = 0
                async for update in updates:
                    await inbox.send(update)
            reason = "stream ended"
        except AuthenticationFailed:
            raise
        except BrokerUnavailable as exc:
            reason = str(exc)
        await inbox.send(StreamDown(reason=reason))
        await trio.sleep(backoff.next_delay())


async def _resync(
    broker: Broker, core: OrderMonitorCore, inbox: trio.MemorySendChannel[MonitorInput]
) -> None:
    """Whatever happened while we were not listening, REST tells: feed it in as updates."""
    for client_order_id in core.in_flight():
        try:
            order = await broker.get_order_by_client_id(client_order_id)
        except BrokerError as exc:
            log.warning("re-sync of %s failed: %s", client_order_id, exc)
            continue
        if order is not None:
            await inbox.send(
                OrderUpdate(event=OrderEvent.SNAPSHOT, order=order, at=utc_now(), source="rest")
            )
