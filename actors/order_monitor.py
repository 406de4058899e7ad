"""OrderMonitor: owns the broker's order stream and routes each update to whoever owns it.

The core de-duplicates updates and knows which executor watches which order; the loop owns
the websocket (reconnecting with backoff and jitter), re-syncs watched orders by REST after
every (re)connect before calling the stream healthy, and forwards updates to the executor,
RiskGuard and the Reconciler.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, assert_never

import attrs
import trio

from actors.messages import Message
from actors.retry import Backoff
from brokers.base import Broker, OrderEvent, OrderUpdate, utc_now
from brokers.errors import AuthenticationFailed, BrokerError, BrokerUnavailable

log = logging.getLogger("tradingd.monitor")

# How many recent update keys to remember for de-duplication; the state machines downstream
# are idempotent too, so this only saves work.
DEDUPE_WINDOW = 4096
# Routes of final orders are kept this long (in orders) for the late-fill edge: a venue may
# report a fill after the cancel that closed the order.
FINAL_ROUTES_KEPT = 10_000
# How long startup waits for the first stream connection before going on without it.
FIRST_CONNECT_GRACE = 5.0


class Watch(Message, frozen=True, kw_only=True, tag="watch"):
    """An executor is about to send this order: route its updates to ``deliver_to``."""

    client_order_id: str
    symbol: str
    deliver_to: Any  # trio.MemorySendChannel of the executor's inbox


class StreamUp(Message, frozen=True, kw_only=True, tag="stream_up"):
    pass


class StreamDown(Message, frozen=True, kw_only=True, tag="stream_down"):
    reason: str


MonitorInput = Watch | OrderUpdate | StreamUp | StreamDown


def update_key(update: OrderUpdate) -> tuple[str, ...]:
    order = update.order
    if update.fill is not None:
        return (order.venue_order_id, "fill", update.fill.execution_id)
    return (order.venue_order_id, update.event.value, order.status.value, str(order.filled_qty))


@attrs.define
class OrderMonitorCore:
    healthy: bool = False
    _routes: dict[str, Any] = attrs.field(factory=dict)  # client_order_id -> executor inbox
    _symbols: dict[str, str] = attrs.field(factory=dict)
    _seen: OrderedDict[tuple[str, ...], None] = attrs.field(factory=OrderedDict)
    _finished: OrderedDict[str, None] = attrs.field(factory=OrderedDict)

    def watch(self, msg: Watch) -> None:
        self._routes[msg.client_order_id] = msg.deliver_to
        self._symbols[msg.client_order_id] = msg.symbol

    def route(self, update: OrderUpdate) -> tuple[bool, Any | None]:
        """(is new, the executor inbox or None when the order is not ours)."""
        key = update_key(update)
        if key in self._seen:
            return False, None
        self._seen[key] = None
        if len(self._seen) > DEDUPE_WINDOW:
            self._seen.popitem(last=False)
        cid = update.order.client_order_id
        if update.order.status.is_final and cid in self._routes:
            self._finished[cid] = None
            if len(self._finished) > FINAL_ROUTES_KEPT:
                old, _ = self._finished.popitem(last=False)
                self._routes.pop(old, None)
                self._symbols.pop(old, None)
        return True, self._routes.get(cid)

    def in_flight(self) -> list[str]:
        """Watched orders not yet seen final: the ones a re-sync must look up."""
        return [cid for cid in self._routes if cid not in self._finished]


@attrs.define
class Subscribers:
    """Where every new update goes besides its executor."""

    risk: trio.MemorySendChannel[Any]
    reconciler: trio.MemorySendChannel[Any]


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
        nursery.start_soon(_dispatch_all, broker, core, subscribers, inbox, first_up)
        # Orders go out only once the stream listens (or has had its chance): an event the
        # venue sends before we listen is never replayed.
        with trio.move_on_after(FIRST_CONNECT_GRACE):
            await first_up.wait()
        if not first_up.is_set():
            log.warning("order stream not up yet: starting on REST re-sync alone")
        task_status.started()


async def _dispatch_all(
    broker: Broker,
    core: OrderMonitorCore,
    subscribers: Subscribers,
    inbox: trio.MemoryReceiveChannel[MonitorInput],
    first_up: trio.Event,
) -> None:
    async with inbox:
        async for msg in inbox:
            await _dispatch(broker, core, subscribers, msg)
            if core.healthy:
                first_up.set()


async def _dispatch(
    broker: Broker, core: OrderMonitorCore, subscribers: Subscribers, msg: MonitorInput
) -> None:
    match msg:
        case Watch():
            core.watch(msg)
        case OrderUpdate():
            is_new, executor = core.route(msg)
            if not is_new:
                return
            if executor is not None:
                await executor.send(msg)
            await subscribers.risk.send(msg)
            await subscribers.reconciler.send(msg)
        case StreamUp():
            core.healthy = True
            log.info("order stream healthy")
        case StreamDown():
            core.healthy = False
            log.warning("order stream down: %s", msg.reason)
        case _:
            assert_never(msg)


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
        if order is None:
            continue
        await inbox.send(
            OrderUpdate(event=OrderEvent.SNAPSHOT, order=order, at=utc_now(), source="rest")
        )
