"""SignalRouter: every source's signals pass here; it owns dedupe and the executor registry.

The core decides (reject, duplicate, or which symbol's executor); the loop parses, journals
rejections before acking them, and spawns executors on demand in the executors' nursery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

import attrs
import trio

from actors.executor.activity import Activity
from actors.messages import Ack, Action, BadSignal, ExecuteSignal, Message, Signal, parse_signal
from actors.quarantine import (
    AtStake,
    implicated_id,
    is_poison,
    quarantine,
    quarantined_await,
    quarantined_call,
)
from actors.records import FailureStage, JournalSink, SignalFinished, SignalRecorded
from brokers.base import utc_now

log = logging.getLogger("tradingd.router")


class Inbound(Message, frozen=True, kw_only=True, tag="inbound"):
    """One input line from a source, with where its ack goes."""

    line: bytes
    source: str
    reply: Any  # trio.MemorySendChannel[Ack]


@attrs.frozen
class Reject:
    reason: str


@attrs.frozen
class Duplicate:
    reason: str


@attrs.frozen
class ToExecutor:
    symbol: str


@attrs.frozen
class ToRebalance:
    """A rebalance: planned from the book, then sent back in as one target per symbol."""


Route = Reject | Duplicate | ToExecutor | ToRebalance


@attrs.define
class SignalRouterCore:
    """Dedupe and symbol checks; ``tradable`` None means the venue's list is not known."""

    tradable: frozenset[str] | None = None
    # Whether a sizing policy is configured (asked per signal: a reload may change it);
    # with one, buys and sells may leave out ``qty``.
    sized_entries: Callable[[], bool] = lambda: False
    _seen: set[str] = attrs.field(factory=set)

    def remember(self, signal_ids: set[str]) -> None:
        """Ids already accepted before a restart, from the journal."""
        self._seen |= signal_ids

    def route(self, signal: Signal) -> Route:
        if signal.id in self._seen:
            return Duplicate(f"signal id {signal.id!r} was already received")
        route = self._destination(signal)
        if not isinstance(route, Reject):
            # Seen from here on, whatever the executor decides: an id is never traded twice.
            self._seen.add(signal.id)
        return route

    def route_again(self, signal: Signal) -> Route:
        """Where a signal accepted before a restart but never worked goes now. Its id is
        spent already (a resend is a duplicate); this is its one replay."""
        self._seen.add(signal.id)
        return self._destination(signal)

    def _destination(self, signal: Signal) -> Route:
        if signal.action is Action.REBALANCE:
            assert signal.targets is not None  # the Signal validates this
            unknown = sorted(s for s in signal.targets if not self._tradable(s.upper()))
            if unknown:
                return Reject(f"unknown or untradable symbols {unknown}")
            return ToRebalance()
        assert signal.symbol is not None  # the Signal validates this
        symbol = signal.symbol.upper()
        if not self._tradable(symbol):
            return Reject(f"unknown or untradable symbol {signal.symbol!r}")
        return ToExecutor(symbol)

    def _tradable(self, symbol: str) -> bool:
        return self.tradable is None or symbol in self.tradable


SpawnExecutor = Callable[[str], Awaitable[trio.MemorySendChannel[Any]]]
# Runs one rebalance to its end: plans it, acks it, sends its legs back through the intake.
# Without an inbound line (a replay at startup) there is no ack to send.
RunRebalance = Callable[[Signal, Inbound | None], Awaitable[None]]


@attrs.frozen
class Intake:
    """The router's front door, shared by every source (so they share its dedupe)."""

    router: trio.MemorySendChannel[Inbound]

    async def send(self, line: bytes, source: str, reply: trio.MemorySendChannel[Ack]) -> None:
        """Hand one line over; its ack arrives on ``reply`` (possibly after later lines')."""
        await self.router.send(Inbound(line=line, source=source, reply=reply))

    async def submit(self, line: bytes, source: str) -> Ack:
        """Hand one line over and wait for its ack."""
        reply, answer = trio.open_memory_channel[Ack](1)
        async with answer:
            await self.send(line, source, reply)
            return await answer.receive()


async def run_signal_router(
    core: SignalRouterCore,
    inbox: trio.MemoryReceiveChannel[Inbound],
    journal: JournalSink,
    spawn_executor: SpawnExecutor,
    initial_symbols: Iterable[str] = (),
    run_rebalance: RunRebalance | None = None,
    replay: Iterable[Signal] = (),
    *,
    activity: Activity | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    executors: dict[str, trio.MemorySendChannel[Any]] = {}

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
                try:
                    signal = await quarantined_call(
                        partial(_parse, core, msg.line),
                        journal,
                        FailureStage.PARSE,
                        partial(_at_stake, msg, None),
                    )
                except BadSignal as exc:
                    ack = Ack(id=exc.signal_id, status="rejected", reason=str(exc))
                    acks.start_soon(record_then_ack, journal, msg, ack, wall)
                    continue
                at_stake = partial(_at_stake, msg, signal.id)
                route = await quarantined_call(
                    partial(core.route, signal), journal, FailureStage.ROUTE, at_stake
                )
                match route:
                    case Reject(reason=reason):
                        ack = Ack(id=signal.id, status="rejected", reason=reason)
                        acks.start_soon(record_then_ack, journal, msg, ack, wall)
                    case Duplicate(reason=reason):
                        ack = Ack(id=signal.id, status="duplicate", reason=reason)
                        acks.start_soon(record_then_ack, journal, msg, ack, wall)
                    case ToRebalance() if run_rebalance is not None:
                        # Off the loop: it waits for its sells before sending its buys.
                        plan = partial(run_rebalance, signal, msg)
                        stage = FailureStage.REBALANCE
                        acks.start_soon(quarantined_await, plan, journal, stage, at_stake)
                    case ToRebalance():
                        ack = Ack(id=signal.id, status="rejected", reason="rebalance unavailable")
                        acks.start_soon(record_then_ack, journal, msg, ack, wall)
                    case ToExecutor(symbol=symbol):
                        executor = executors.get(symbol)
                        if executor is None:
                            executor = executors[symbol] = await spawn_executor(symbol)
                        await executor.send(
                            ExecuteSignal(signal=signal, reply=msg.reply, received_at=wall)
                        )


def _at_stake(msg: Inbound, signal_id: str | None) -> list[AtStake]:
    """The line a failing step was handling (worked out only once it failed: this is the
    path every signal takes)."""
    if signal_id is None:
        signal_id = implicated_id(msg.line)
    return [AtStake(signal_id, msg.reply, msg.line.decode("utf-8", "replace"))]


def _parse(core: SignalRouterCore, line: bytes) -> Signal:
    return parse_signal(line, sized_entries=core.sized_entries())


async def _replay_one(
    core: SignalRouterCore,
    signal: Signal,
    journal: JournalSink,
    executors: dict[str, trio.MemorySendChannel[Any]],
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
            await executor.send(ExecuteSignal(signal=signal, reply=None, received_at=utc_now()))
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


async def record_then_ack(journal: JournalSink, msg: Inbound, ack: Ack, wall: datetime) -> None:
    record = SignalRecorded(
        at=wall,
        signal_id=ack.id,
        source=msg.source,
        raw=msg.line.decode("utf-8", "replace")[:16384],
        status=ack.status,
        reason=ack.reason,
    )
    # Off the router's loop: a flood of bad lines never delays good ones.
    await journal.commit(record)
    try:
        await msg.reply.send(ack)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        log.info("a source left before its ack")
