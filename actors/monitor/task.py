"""OrderMonitor: owns the broker's order stream and routes each update to whoever owns it.

The core de-duplicates updates, knows which executor watches which order, and keeps a REST
deadline per order: an order the venue has not answered for within ``first_answer`` seconds,
or that has been quiet for ``recheck`` seconds, is looked up by REST; while the stream is
down every in-flight order is polled every ``unhealthy_poll`` seconds. Lookups are bounded
by a token bucket so a thousand open orders never become a burst of a thousand calls.

The loop owns the websocket (reconnecting with backoff and jitter), re-syncs in-flight
orders by REST after every (re)connect before calling the stream healthy, runs the lookups,
and forwards updates to the executor, RiskGuard and the Reconciler.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, assert_never

import attrs
import trio

from actors.messages import Message, StreamHealth, Watch
from actors.retry import Backoff
from brokers.base import Broker, OrderEvent, OrderUpdate, utc_now
from brokers.errors import AuthenticationFailed, BrokerError, BrokerUnavailable

log = logging.getLogger("tradingd.monitor")

# How many recent update keys to remember for de-duplication; the state machines downstream
# are idempotent too, so this only saves work.
DEDUPE_WINDOW = 4096
# A token bucket refilled by float arithmetic lands a hair under 1 at the very moment it
# promised one: counting that as whole keeps the loop from waking, finding no token, and
# asking to be woken at that same moment again (a spin that a frozen test clock never ends).
WHOLE_TOKEN = 1 - 1e-9
# Routes of final orders are kept this long (in orders) for the late-fill edge: a venue may
# report a fill after the cancel that closed the order.
FINAL_ROUTES_KEPT = 10_000


class StreamUp(Message, frozen=True, kw_only=True, tag="stream_up"):
    pass


class StreamDown(Message, frozen=True, kw_only=True, tag="stream_down"):
    reason: str


class LookupEnded(Message, frozen=True, kw_only=True, tag="lookup_ended"):
    """A REST lookup the monitor made has ended (its result, if any, came as an update)."""

    client_order_id: str


MonitorInput = Watch | OrderUpdate | StreamUp | StreamDown | LookupEnded


def update_key(update: OrderUpdate) -> tuple[str, ...]:
    order = update.order
    if update.fill is not None:
        return (order.venue_order_id, "fill", update.fill.execution_id)
    return (order.venue_order_id, update.event.value, order.status.value, str(order.filled_qty))


@attrs.frozen
class MonitorTimers:
    first_answer: float = 5.0  # no word from the venue this long after sending: look it up
    recheck: float = 60.0  # a working order quiet this long (stream healthy): look it up
    # Each quiet lookup that finds the order still working doubles its wait, up to this: a
    # resting exit costs a handful of calls an hour, not one a minute (the venue's rate
    # limit is shared by every order of the account).
    recheck_max: float = 900.0
    unhealthy_poll: float = 2.0  # while the stream is down, poll in-flight orders this often
    # The bound on REST lookups, whatever the backlog: well under Alpaca's 200 calls a
    # minute, so submits and cancels still get through while the stream is down.
    lookups_per_second: float = 2.5
    first_connect_grace: float = 5.0  # startup waits this long for the stream, then goes on


@attrs.define
class OrderMonitorCore:
    timers: MonitorTimers = attrs.field(factory=MonitorTimers)
    healthy: bool = False
    _routes: dict[str, Any] = attrs.field(factory=dict)  # client_order_id -> executor inbox
    _seen: OrderedDict[tuple[str, ...], None] = attrs.field(factory=OrderedDict)
    _finished: OrderedDict[str, None] = attrs.field(factory=OrderedDict)
    _due: dict[str, float] = attrs.field(factory=dict)  # in-flight order -> next lookup at
    _quiet: dict[str, float] = attrs.field(factory=dict)  # order -> its current recheck wait
    _looking_up: set[str] = attrs.field(factory=set)
    _tokens: float = 0.0
    _tokens_at: float = 0.0

    def watch(self, msg: Watch, now: float) -> None:
        self._routes[msg.client_order_id] = msg.deliver_to
        self._finished.pop(msg.client_order_id, None)
        self._quiet.pop(msg.client_order_id, None)
        self._due[msg.client_order_id] = now + self._quiet_limit(first=True)

    def route(self, update: OrderUpdate, now: float) -> tuple[bool, Any | None]:
        """(is new, the executor inbox or None when the order is not ours)."""
        cid = update.order.client_order_id
        key = update_key(update)
        if key in self._seen:
            return False, None
        self._seen[key] = None
        if len(self._seen) > DEDUPE_WINDOW:
            self._seen.popitem(last=False)
        if cid in self._routes:
            if update.order.status.is_final:
                self._finish(cid)
            elif cid in self._due:
                self._quiet.pop(cid, None)  # news: back to the shortest recheck
                self._due[cid] = now + self._quiet_limit(first=False)
        return True, self._routes.get(cid)

    def set_health(self, healthy: bool, now: float) -> None:
        self.healthy = healthy
        if not healthy:
            # Nothing will stream in: bring every in-flight order's lookup forward.
            soon = now + self.timers.unhealthy_poll
            for cid, at in self._due.items():
                self._due[cid] = min(at, soon)

    def lookup_done(self, client_order_id: str) -> None:
        self._looking_up.discard(client_order_id)

    def in_flight(self) -> list[str]:
        """Watched orders not yet seen final: the ones a re-sync must look up."""
        return list(self._due)

    def due_lookups(self, now: float) -> list[str]:
        """Orders to look up now, within the rate bound; each is re-armed for later."""
        self._refill(now)
        # Called after every message: with a thousand orders watched, most calls find
        # nothing due, and one C-level min says so without a pass in Python.
        if not self._due or min(self._due.values()) > now:
            return []
        due = sorted(
            (at, cid) for cid, at in self._due.items() if at <= now and cid not in self._looking_up
        )
        chosen = []
        for _, cid in due:
            if self._tokens < WHOLE_TOKEN:
                break
            self._tokens -= 1
            chosen.append(cid)
            self._looking_up.add(cid)
            self._due[cid] = now + self._quiet_limit(first=False, cid=cid)
            if self.healthy:
                wait = self._quiet.get(cid, self.timers.recheck)
                self._quiet[cid] = min(2 * wait, max(self.timers.recheck_max, wait))
        return chosen

    def next_deadline(self) -> float:
        if self._looking_up:
            pending = [at for cid, at in self._due.items() if cid not in self._looking_up]
        else:
            pending = list(self._due.values())  # the common case, without a pass in Python
        if not pending:
            return float("inf")
        earliest = min(pending)
        if self._tokens >= WHOLE_TOKEN:
            return earliest
        # Out of tokens: wake when one is back.
        refill_at = self._tokens_at + (1 - self._tokens) / self.timers.lookups_per_second
        return max(earliest, refill_at)

    def _quiet_limit(self, *, first: bool, cid: str | None = None) -> float:
        if not self.healthy:
            return self.timers.unhealthy_poll
        if first:
            return self.timers.first_answer
        return self._quiet.get(cid, self.timers.recheck) if cid else self.timers.recheck

    def _refill(self, now: float) -> None:
        rate = self.timers.lookups_per_second
        self._tokens = min(rate, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now

    def _finish(self, cid: str) -> None:
        self._due.pop(cid, None)
        self._quiet.pop(cid, None)
        self._finished[cid] = None
        if len(self._finished) > FINAL_ROUTES_KEPT:
            old, _ = self._finished.popitem(last=False)
            self._routes.pop(old, None)


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
            await subscribers.reconciler.send(msg)
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
