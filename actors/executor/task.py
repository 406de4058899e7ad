"""PerSymbolExecutor's loop: owns one symbol's inbox, timers and venue calls.

Decisions are the core's (``core``); this loop carries out its effects. Every venue
call runs in a child task that reports back through the inbox, so a slow venue answer for
this symbol never blocks another symbol, nor this symbol's own bookkeeping.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, assert_never

import attrs
import msgspec
import trio

from actors.executor.core_signals import Phase
from actors.executor.effects import (
    Alert,
    AskRisk,
    Cancel,
    CancelFailed,
    Effect,
    ExecutorInput,
    ExitSent,
    Follow,
    Lookup,
    LookupFailed,
    OrderLookedUp,
    RecordInJournal,
    Release,
    Submit,
    SubmitAccepted,
    SubmitFailed,
    SubmitOutcome,
)
from actors.messages import (
    Ack,
    CancelEntries,
    ExecuteSignal,
    MonitorInput,
    OrderPosted,
    PriceSeen,
    ProtectiveSent,
    ReleaseReservation,
    RiskDecision,
    RiskInput,
    RiskRequest,
    Watch,
)
from actors.quarantine import AtStake, quarantined_call
from actors.records import FailureStage, JournalRecord, JournalSink
from brokers.base import Broker, OrderRequest, RequestPriority, utc_now
from brokers.errors import (
    BrokerError,
    BrokerUnavailable,
    DuplicateClientOrderId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)

if TYPE_CHECKING:
    from datetime import datetime

    from actors.activity import Activity
    from actors.executor.core import SymbolExecutor
    from actors.prices import PriceBook

log = logging.getLogger("tradingd.executor")

INBOX_SIZE = 64
# While the executor holds a stop (emulated brackets), the price is checked at least this
# often, besides after every message.
PRICE_POLL = 0.05


@attrs.define
class _Outbox:
    """Messages for RiskGuard and OrderMonitor, each delivered by a child task, in the order
    the loop handed them over (per destination).

    Those actors wait on this executor's inbox (to deliver updates, or an answer sent there
    directly), so its loop must never wait on theirs: a full inbox on both sides would stop
    them both, and every symbol behind them. The loop only hands a message over; its task
    waits for the message handed over before it to that destination, then for room in that
    actor's bounded inbox. No buffer besides the actors' own inboxes."""

    _tasks: trio.Nursery
    # Per destination, set once the message last handed over for it is delivered.
    _last: dict[int, trio.Event] = attrs.field(factory=dict)

    def to(self, channel: trio.MemorySendChannel[Any], msg: Any) -> None:
        before = self._last.get(id(channel))
        delivered = self._last[id(channel)] = trio.Event()
        self._tasks.start_soon(_deliver, before, channel, msg, delivered)


async def _deliver(
    before: trio.Event | None,
    channel: trio.MemorySendChannel[Any],
    msg: Any,
    delivered: trio.Event,
) -> None:
    try:
        if before is not None:
            await before.wait()
        await channel.send(msg)
    finally:
        delivered.set()


async def _relay_answer(
    answer: trio.MemoryReceiveChannel[RiskDecision],
    inbox: trio.MemorySendChannel[ExecutorInput],
) -> None:
    """RiskGuard answers on a one-slot channel of the request's own, so it never waits on
    this executor's inbox: this task does, and hands the answer in."""
    async with answer:
        try:
            decision = await answer.receive()
        except trio.EndOfChannel:
            return
    await inbox.send(decision)


@attrs.frozen
class ExecutorDeps:
    broker: Broker
    journal: JournalSink
    risk: trio.MemorySendChannel[RiskInput]
    monitor: trio.MemorySendChannel[MonitorInput]
    activity: Activity
    prices: PriceBook | None = None  # read while a stop is held here


async def run_executor(
    core: SymbolExecutor,
    inbox_send: trio.MemorySendChannel[ExecutorInput],
    inbox: trio.MemoryReceiveChannel[ExecutorInput],
    deps: ExecutorDeps,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with trio.open_nursery() as calls:
        outbox = _Outbox(calls)
        # Orders adopted at startup are followed like any other from here on.
        for order in core.unresolved():
            watch = Watch(
                client_order_id=order.client_order_id, symbol=core.symbol, deliver_to=inbox_send
            )
            outbox.to(deps.monitor, watch)
        task_status.started()
        async with inbox:
            price_seen_at = float("-inf")
            while True:
                msg: ExecutorInput | None = None
                deadline = core.next_deadline()
                if core.protection.holds_stop:
                    deadline = min(deadline, trio.current_time() + PRICE_POLL)
                with trio.move_on_at(deadline):
                    msg = await inbox.receive()
                now, wall = trio.current_time(), utc_now()
                effects = await quarantined_call(
                    partial(_decide, core, msg, now, wall),
                    deps.journal,
                    FailureStage.EXECUTE,
                    _at_stake(core, msg),
                )
                quote = deps.prices.quote(core.symbol) if deps.prices is not None else None
                if core.protection.holds_stop and quote is not None and quote.at > price_seen_at:
                    price_seen_at = quote.at
                    effects += await quarantined_call(
                        partial(_decide, core, PriceSeen(price=quote.price), now, wall),
                        deps.journal,
                        FailureStage.EXECUTE,
                        _at_stake(core, None),
                    )
                await _carry_out(effects, core, inbox_send, deps, calls, outbox)
                if isinstance(msg, CancelEntries) and msg.done is not None:
                    msg.done.set()  # the halt's cancels are on their way
                deps.activity.report(core.symbol, idle=core.idle)


def _decide(
    core: SymbolExecutor, msg: ExecutorInput | None, now: float, wall: datetime
) -> list[Effect]:
    return core.on_timer(now, wall) if msg is None else core.handle(msg, now, wall)


def _at_stake(core: SymbolExecutor, msg: ExecutorInput | None) -> list[AtStake]:
    """The signals quarantined if handling ``msg`` raises: a new signal itself; anything
    else, the signal being worked (whose sender may still wait for its ack), but only while
    none of its orders can have left. One with an order sent is carried by that order (the
    restart adopts it, and never replays the signal): quarantining it would tell the
    operator to send again what may have traded."""
    if isinstance(msg, ExecuteSignal):
        raw = msg.raw or msgspec.json.encode(msg.signal).decode()
        return [AtStake(msg.signal.id, msg.reply, raw)]
    job = core.working
    if job is None or job.opening or job.phase is Phase.ORDER:
        return []
    return [AtStake(job.signal.id, job.reply)]


@attrs.frozen
class _DurableAck:
    """Records to commit, and the ack that goes out only once they are durable."""

    records: tuple[JournalRecord, ...]
    reply: trio.MemorySendChannel[Ack]
    ack: Ack


async def _carry_out(
    effects: list[Effect],
    core: SymbolExecutor,
    inbox: trio.MemorySendChannel[ExecutorInput],
    deps: ExecutorDeps,
    calls: trio.Nursery,
    outbox: _Outbox,
) -> None:
    pending: _DurableAck | None = None
    for effect in effects:
        match effect:
            case RecordInJournal(records=records, ack=ack_to):
                if ack_to is None:
                    await deps.journal.append(*records)
                else:
                    if pending is not None:
                        calls.start_soon(_commit_then_ack, deps.journal, pending)
                    pending = _DurableAck(records, *ack_to)
            case AskRisk(request=request, position_qty=position_qty):
                answer_send, answer_recv = trio.open_memory_channel[RiskDecision](1)
                calls.start_soon(_relay_answer, answer_recv, inbox)
                ask = RiskRequest(
                    request=request,
                    position_qty=position_qty,
                    reply=answer_send,
                    size_by_policy=effect.size_by_policy,
                    confidence=effect.confidence,
                    signal_id=effect.signal_id,
                    position_derived=effect.position_derived,
                    waiting=effect.waiting,
                    offered=effect.offered,
                )
                outbox.to(deps.risk, ask)
            case ExitSent(client_order_id=cid):
                outbox.to(deps.risk, ProtectiveSent(client_order_id=cid))
            case Submit(request=request, priority=priority):
                # The submit task starts the intent's commit itself, once its POST is on the
                # wire: the fsync overlaps the send instead of delaying it.
                calls.start_soon(
                    _submit, deps, core.symbol, request, inbox, pending, priority, outbox
                )
                pending = None
            case Release(client_order_id=cid):
                outbox.to(deps.risk, ReleaseReservation(client_order_id=cid))
            case Lookup(client_order_id=cid):
                calls.start_soon(_lookup, deps.broker, cid, inbox)
            case Cancel(client_order_id=cid, venue_order_id=venue_id):
                calls.start_soon(_cancel, deps.broker, cid, venue_id, inbox)
            case Follow(client_order_id=cid):
                # A leg the venue created: the monitor routes its updates here from now on
                # (and looks it up after its deadline, in case an event came before this).
                outbox.to(
                    deps.monitor, Watch(client_order_id=cid, symbol=core.symbol, deliver_to=inbox)
                )
            case Alert(message=message):
                log.warning("%s: %s", core.symbol, message)
            case _:
                assert_never(effect)
    if pending is not None:
        calls.start_soon(_commit_then_ack, deps.journal, pending)


async def _commit_then_ack(journal: JournalSink, job: _DurableAck) -> None:
    # Nothing is acknowledged before it is durable. A journal that cannot be written
    # raises here and takes the daemon down loudly; startup reconciliation heals the rest.
    await journal.commit(*job.records)
    try:
        await job.reply.send(job.ack)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        log.info("signal %s: its source left before the ack", job.ack.id)


async def _submit(
    deps: ExecutorDeps,
    symbol: str,
    request: OrderRequest,
    inbox: trio.MemorySendChannel[ExecutorInput],
    intent: _DurableAck | None,
    priority: RequestPriority,
    outbox: _Outbox,
) -> None:
    cid = request.client_order_id
    # Watch first: the fill may stream in before the POST's answer does. The monitor
    # handles its inbox in order, so queueing the watch before sending is enough.
    watch = Watch(client_order_id=cid, symbol=symbol, deliver_to=inbox)
    try:
        deps.monitor.send_nowait(watch)
    except trio.WouldBlock:
        await deps.monitor.send(watch)
    if intent is not None:
        async with trio.open_nursery() as nursery:
            # Started here, it runs only once this task yields: with the request sent (or
            # waiting its turn in the request budget: the intent is then durable first).
            nursery.start_soon(_commit_then_ack, deps.journal, intent)
            result = await _post(deps.broker, request, priority)
        # An order counts as sent only once its intent is durable too (the nursery waited).
    else:
        result = await _post(deps.broker, request, priority)
    # Out of the request budget (which may have held it): RiskGuard's window counts it now.
    outbox.to(deps.risk, OrderPosted(client_order_id=cid))
    await inbox.send(result)


async def _post(broker: Broker, request: OrderRequest, priority: RequestPriority) -> ExecutorInput:
    cid = request.client_order_id
    try:
        return SubmitAccepted(order=await broker.submit_order(request, priority=priority))
    except DuplicateClientOrderId as exc:
        return SubmitFailed(
            client_order_id=cid, outcome=SubmitOutcome.DUPLICATE_ID, reason=str(exc)
        )
    except OrderRejected as exc:
        return SubmitFailed(
            client_order_id=cid, outcome=SubmitOutcome.REJECTED, reason=_rejection(exc)
        )
    except RateLimited as exc:
        return SubmitFailed(
            client_order_id=cid,
            outcome=SubmitOutcome.NOT_SENT,
            reason=str(exc),
            retry_after=exc.retry_after,
        )
    except BrokerUnavailable as exc:
        outcome = SubmitOutcome.UNKNOWN if exc.request_may_have_arrived else SubmitOutcome.NOT_SENT
        return SubmitFailed(
            client_order_id=cid, outcome=outcome, reason=str(exc), retry_after=exc.retry_after
        )
    except BrokerError as exc:
        return SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.UNKNOWN, reason=str(exc))


def _rejection(exc: OrderRejected) -> str:
    code = f" ({exc.code})" if exc.code is not None else ""
    return f"venue rejected{code}: {exc}"


async def _lookup(
    broker: Broker, client_order_id: str, inbox: trio.MemorySendChannel[ExecutorInput]
) -> None:
    result: ExecutorInput
    try:
        order = await broker.get_order_by_client_id(client_order_id)
        result = OrderLookedUp(client_order_id=client_order_id, order=order)
    except BrokerUnavailable as exc:
        result = LookupFailed(
            client_order_id=client_order_id, reason=str(exc), retry_after=exc.retry_after
        )
    except BrokerError as exc:
        result = LookupFailed(client_order_id=client_order_id, reason=str(exc))
    await inbox.send(result)


async def _cancel(
    broker: Broker,
    client_order_id: str,
    venue_order_id: str,
    inbox: trio.MemorySendChannel[ExecutorInput],
) -> None:
    try:
        await broker.cancel_order(venue_order_id)
    except (OrderNotFound, OrderRejected, BrokerError) as exc:
        # Not cancelable usually means it just filled: the stream or a lookup will say.
        await inbox.send(CancelFailed(client_order_id=client_order_id, reason=str(exc)))
