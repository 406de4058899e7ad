"""SignalRouter's loop: every source's signals pass here; it owns the executor registry.

The core (``actors.router.core``) decides (reject, duplicate, or which symbol's executor);
the loop parses a line (a signal tradingd produced comes as the object it is), journals
rejections before acking them, and spawns executors on demand in the executors' nursery.
Who sent each signal and the line as received travel with it to the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, assert_never

import attrs
import msgspec
import trio

from actors.messages import (
    REPLAY_SOURCE,
    Ack,
    BadSignal,
    ExecuteSignal,
    Inbound,
    ProducedSignal,
    RouterInput,
    Signal,
    parse_signal,
)
from actors.quarantine import (
    AtStake,
    implicated_id,
    is_poison,
    quarantine,
    quarantined_await,
    quarantined_call,
)
from actors.records import FailureStage, JournalSink, SignalFinished, SignalRecorded
from actors.router.core import Duplicate, Reject, SignalRouterCore, ToExecutor, ToRebalance
from brokers.base import utc_now

if TYPE_CHECKING:
    from datetime import datetime

    from actors.activity import Activity

log = logging.getLogger("tradingd.router")


# The journal keeps this much of a line (the sources' line limit: all of any line they take).
RAW_CHARS = 16384


@attrs.frozen
class Arrival:
    """How one signal came in: who sent it, the line as received (as journaled), where its
    ack goes. Worked out once, at the router's door, and carried to the journal."""

    source: str
    raw: str
    reply: trio.MemorySendChannel[Ack]
    line: bytes  # what a failing step implicates


def arrival_of(msg: RouterInput) -> Arrival:
    match msg:
        case Inbound(line=line, source=source, reply=reply):
            return Arrival(source, line.decode("utf-8", "replace")[:RAW_CHARS], reply, line)
        case ProducedSignal(signal=signal, source=source, reply=reply):
            line = encode_signal(signal)
            return Arrival(source, line.decode(), reply, line)
        case _:
            assert_never(msg)


def encode_signal(signal: Signal) -> bytes:
    """A signal as a line: what the journal keeps of one that arrived as an object."""
    return msgspec.json.encode(signal)


SpawnExecutor = Callable[[str], Awaitable[trio.MemorySendChannel[ExecuteSignal]]]
# Runs one rebalance to its end: plans it, acks it, sends its legs back through the intake.
# Without an arrival (a replay at startup) there is no ack to send.
RunRebalance = Callable[[Signal, Arrival | None], Awaitable[None]]


@attrs.frozen
class Intake:
    """The router's front door, shared by every source (so they share its dedupe)."""

    router: trio.MemorySendChannel[RouterInput]

    async def send(self, line: bytes, source: str, reply: trio.MemorySendChannel[Ack]) -> None:
        """Hand one line over; its ack arrives on ``reply`` (possibly after later lines')."""
        await self.router.send(Inbound(line=line, source=source, reply=reply))

    async def submit(self, line: bytes, source: str) -> Ack:
        """Hand one line over and wait for its ack."""
        reply, answer = trio.open_memory_channel[Ack](1)
        async with answer:
            await self.send(line, source, reply)
            return await answer.receive()

    async def submit_signal(self, signal: Signal, source: str) -> Ack:
        """Hand over a signal tradingd produced itself (``source`` says which part) and wait
        for its ack: deduped, journaled and worked like any line, without a parse."""
        reply, answer = trio.open_memory_channel[Ack](1)
        async with answer:
            await self.router.send(ProducedSignal(signal=signal, source=source, reply=reply))
            return await answer.receive()


async def run_signal_router(
    core: SignalRouterCore,
    inbox: trio.MemoryReceiveChannel[RouterInput],
    journal: JournalSink,
    spawn_executor: SpawnExecutor,
    initial_symbols: Iterable[str] = (),
    run_rebalance: RunRebalance | None = None,
    replay: Iterable[Signal] = (),
    *,
    activity: Activity | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    executors: dict[str, trio.MemorySendChannel[ExecuteSignal]] = {}

    async def spawn(symbol: str) -> None:
        executors[symbol] = await spawn_executor(symbol)

    # Symbols with a position get their executor now, so its state is live before any signal.
    # Side by side: a thousand held symbols start in a few scheduler passes, not thousands.
    async with trio.open_nursery() as spawning:
        for symbol in initial_symbols:
            spawning.start_soon(spawn, symbol)
    async with trio.open_nursery() as acks:
        # Signals accepted before a restart and never worked go first, in the order they
        # were accepted, before any new one: they were promised earlier.
        for signal in replay:
            try:
                await _replay_one(
                    core, signal, journal, executors, spawn_executor, run_rebalance, acks, activity
                )
            except Exception as exc:
                if not is_poison(exc):
                    raise
                # Quarantined, and the start goes on: raising would stop every start.
                await quarantine(journal, FailureStage.REPLAY, [AtStake(signal.id)], exc)
        task_status.started()
        async with inbox:
            async for msg in inbox:
                wall = utc_now()
                arrival = arrival_of(msg)
                try:
                    signal = await quarantined_call(
                        partial(_signal_of, core, msg),
                        journal,
                        FailureStage.PARSE,
                        partial(_at_stake, arrival, None),
                    )
                except BadSignal as exc:
                    ack = Ack(id=exc.signal_id, status="rejected", reason=str(exc))
                    acks.start_soon(record_then_ack, journal, arrival, ack, wall)
                    continue
                at_stake = partial(_at_stake, arrival, signal.id)
                route = await quarantined_call(
                    partial(core.route, signal), journal, FailureStage.ROUTE, at_stake
                )
                match route:
                    case Reject(reason=reason):
                        ack = Ack(id=signal.id, status="rejected", reason=reason)
                        acks.start_soon(record_then_ack, journal, arrival, ack, wall)
                    case Duplicate(reason=reason):
                        ack = Ack(id=signal.id, status="duplicate", reason=reason)
                        acks.start_soon(record_then_ack, journal, arrival, ack, wall)
                    case ToRebalance() if run_rebalance is not None:
                        # Off the loop: it waits for its sells before sending its buys.
                        plan = partial(run_rebalance, signal, arrival)
                        stage = FailureStage.REBALANCE
                        acks.start_soon(quarantined_await, plan, journal, stage, at_stake)
                    case ToRebalance():
                        ack = Ack(id=signal.id, status="rejected", reason="rebalance unavailable")
                        acks.start_soon(record_then_ack, journal, arrival, ack, wall)
                    case ToExecutor(symbol=symbol):
                        executor = executors.get(symbol)
                        if executor is None:
                            executor = executors[symbol] = await spawn_executor(symbol)
                        await executor.send(
                            ExecuteSignal(
                                signal=signal,
                                reply=arrival.reply,
                                received_at=wall,
                                source=arrival.source,
                                raw=arrival.raw,
                            )
                        )


def _at_stake(arrival: Arrival, signal_id: str | None) -> list[AtStake]:
    """The line a failing step was handling (worked out only once it failed: this is the
    path every signal takes)."""
    if signal_id is None:
        signal_id = implicated_id(arrival.line)
    return [AtStake(signal_id, arrival.reply, arrival.line.decode("utf-8", "replace"))]


def _signal_of(core: SignalRouterCore, msg: RouterInput) -> Signal:
    """The signal a message brings: a line is parsed, a produced signal is taken as it is."""
    match msg:
        case Inbound(line=line):
            return parse_signal(line, sized_entries=core.sized_entries())
        case ProducedSignal(signal=signal):
            return signal
        case _:
            assert_never(msg)


async def _replay_one(
    core: SignalRouterCore,
    signal: Signal,
    journal: JournalSink,
    executors: dict[str, trio.MemorySendChannel[ExecuteSignal]],
    spawn_executor: SpawnExecutor,
    run_rebalance: RunRebalance | None,
    acks: trio.Nursery,
    activity: Activity | None,
) -> None:
    match core.route_again(signal):
        case ToExecutor(symbol=symbol):
            executor = executors.get(symbol)
            if executor is None:
                executor = executors[symbol] = await spawn_executor(symbol)
            if activity is not None:
                activity.expect_work(symbol)
            await executor.send(
                ExecuteSignal(
                    signal=signal,
                    reply=None,
                    received_at=utc_now(),
                    source=REPLAY_SOURCE,
                    raw=encode_signal(signal).decode(),
                )
            )
        case ToRebalance() if run_rebalance is not None:
            acks.start_soon(_replay_rebalance, run_rebalance, signal, journal)
        case Reject(reason=reason) | Duplicate(reason=reason):
            await _give_up_replay(journal, signal, reason)
        case ToRebalance():
            await _give_up_replay(journal, signal, "rebalance unavailable")


async def _replay_rebalance(
    run_rebalance: RunRebalance, signal: Signal, journal: JournalSink
) -> None:
    """A rebalance replayed at startup: one that raises is quarantined, and the daemon runs
    on. Legs it sent before raising are signals of their own, worked like any other."""
    try:
        await run_rebalance(signal, None)
    except Exception as exc:
        if not is_poison(exc):
            raise
        await quarantine(journal, FailureStage.REPLAY, [AtStake(signal.id)], exc)


async def _give_up_replay(journal: JournalSink, signal: Signal, reason: str) -> None:
    # Its source was told "accepted" before the restart: it must hear of this from the log.
    log.error("signal %s, accepted before the restart, cannot be worked: %s", signal.id, reason)
    await journal.commit(
        SignalFinished(at=utc_now(), signal_id=signal.id, reason=f"not replayed: {reason}")
    )


async def record_then_ack(journal: JournalSink, arrival: Arrival, ack: Ack, wall: datetime) -> None:
    """Journal the signal's answer, then send it (a rejection, a duplicate, a rebalance)."""
    record = SignalRecorded(
        at=wall,
        signal_id=ack.id,
        source=arrival.source,
        raw=arrival.raw,
        status=ack.status,
        reason=ack.reason,
    )
    # Off the router's loop: a flood of bad lines never delays good ones.
    await journal.commit(record)
    try:
        await arrival.reply.send(ack)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        log.info("a source left before its ack")


@attrs.frozen
class RouterHandle:
    """The running SignalRouter as the daemon sees it: its front door, and what it knows."""

    intake: Intake
    _core: SignalRouterCore

    def has_seen(self, signal_id: str) -> bool:
        """Whether a signal with this id was taken (a resend would ack ``duplicate``)."""
        return self._core.has_seen(signal_id)

    @property
    def tradable(self) -> frozenset[str] | None:
        """The venue's tradable symbols (None: not known, every symbol is let through)."""
        return self._core.tradable


async def start_signal_router(
    nursery: trio.Nursery,
    core: SignalRouterCore,
    inbox: trio.MemoryReceiveChannel[RouterInput],
    intake: Intake,
    journal: JournalSink,
    spawn_executor: SpawnExecutor,
    initial_symbols: Iterable[str] = (),
    run_rebalance: RunRebalance | None = None,
    replay: Iterable[Signal] = (),
    *,
    activity: Activity | None = None,
) -> RouterHandle:
    """Start the router in ``nursery`` (its replay done, its executors spawned) and return
    its handle."""
    await nursery.start(
        partial(run_signal_router, activity=activity),
        core,
        inbox,
        journal,
        spawn_executor,
        initial_symbols,
        run_rebalance,
        replay,
    )
    return RouterHandle(intake, core)
