"""RiskGuard's loop: decisions are in-memory and immediate (``risk_core``), so it never
awaits I/O while deciding, and it revalues the held book at new prices in idle time rather
than while an order waits. A child task reads the account from the venue at most once per
``account_refresh_interval``, and at once after the venue refused an order; with the trading
day taken from the venue, it reads the venue's clock too, once per trading day.

Orders over the order-rate caps are parked in the core and decided here as the window makes
room; the loop wakes for the first of them.

Whatever must survive a restart (the halt, the daily-loss latch, the runaway breaker, the
day's start equity) is committed to the journal as soon as it changes, before the change is
reported done.
"""

from __future__ import annotations

import contextlib
import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, assert_never

import attrs
import trio

from actors.messages import (
    Denied,
    Halt,
    OrderPosted,
    ProtectiveSent,
    ReleaseReservation,
    Resume,
    RiskInput,
    RiskRequest,
    SetLimits,
    StreamHealth,
)
from actors.quarantine import AtStake, quarantined_call
from actors.records import FailureStage, JournalSink
from brokers.base import Account, MarketClock, OrderUpdate, utc_now
from brokers.errors import AuthenticationFailed, BrokerError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from decimal import Decimal

    from actors.risk.core import RiskGuardCore
    from actors.risk.core_daily import DailyLoss
    from actors.risk.limits import LatchMode, RiskLimits

log = logging.getLogger("tradingd.risk")

T = TypeVar("T")

INBOX_SIZE = 256


class AccountReader(Protocol):
    async def get_account(self) -> Account: ...


class ClockReader(Protocol):
    async def get_clock(self) -> MarketClock: ...


class Venue(AccountReader, ClockReader, Protocol):
    """What RiskGuard reads from the venue: the account and the market clock."""


async def run_risk_guard(
    core: RiskGuardCore,
    inbox: trio.MemoryReceiveChannel[RiskInput],
    venue: Venue | None = None,
    *,
    journal: JournalSink | None = None,
    wall: Callable[[], datetime] = utc_now,
    revalue_every: float = 0.5,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve decisions; with ``venue``, keep the account snapshot (and the trading day)
    fresh too; with ``journal``, persist the state that must outlive a restart. While no
    message waits, the held book is revalued at least every ``revalue_every`` seconds."""
    wake_send, wake_recv = trio.open_memory_channel[None](1)

    async def persist() -> None:
        record = core.state_record(wall())
        if record is not None and journal is not None:
            await journal.commit(record)

    async with trio.open_nursery() as nursery:
        if venue is not None:
            nursery.start_soon(_refresh_account, core, venue, wake_recv, wall, persist)
        task_status.started()
        async with inbox:
            while True:
                if inbox.statistics().current_buffer_used == 0:
                    # Idle: mark the book at the latest prices now, so the next order waits
                    # only for the prices that move after this.
                    core.revalue()
                msg = None
                deadline = trio.current_time() + revalue_every
                due = core.next_due(trio.current_time())
                with trio.move_on_at(deadline if due is None else min(deadline, due)):
                    try:
                        msg = await inbox.receive()
                    except trio.EndOfChannel:
                        break
                if msg is not None:
                    await _handle(core, msg, persist, journal)
                await _decide_due(core, journal)
                if core.wants_refresh:
                    with contextlib.suppress(trio.WouldBlock):  # a refresh is already due
                        wake_send.send_nowait(None)
        nursery.cancel_scope.cancel()


async def _handle(
    core: RiskGuardCore,
    msg: RiskInput,
    persist: Callable[[], Any],
    journal: JournalSink | None,
) -> None:
    match msg:
        case RiskRequest():
            runaway_before = core.runaway
            admit = partial(core.admit, msg, trio.current_time())
            if await _on_behalf_of(msg, journal, admit):
                await _decide(core, msg, journal)
            if runaway_before is None and core.runaway is not None:
                log.warning(
                    "runaway breaker tripped (%s): new entries are denied until resume",
                    core.runaway,
                )
                await persist()
                await _deny_blocked_entries(core, journal)
        case OrderUpdate():
            core.on_update(msg, trio.current_time())
        case ReleaseReservation():
            core.release(msg.client_order_id, trio.current_time())
        case OrderPosted():
            core.order_posted(msg.client_order_id, trio.current_time())
        case ProtectiveSent():
            core.count_protective_send(trio.current_time())
        case Halt():
            core.halt()
            await persist()
            log.warning("halted: new entries are denied until resume")
            await _deny_blocked_entries(core, journal)
            if msg.done is not None:
                msg.done.set()
        case Resume():
            core.resume()
            await persist()
            log.warning("resumed")
            if msg.done is not None:
                msg.done.set()
        case SetLimits(limits=limits):
            core.set_limits(limits)
            log.info("risk limits reloaded")
        case StreamHealth(healthy=healthy):
            was = core.stream_healthy
            core.set_stream_health(healthy)
            if was and not healthy and core.limits.refuse_entries_when_stream_down:
                log.warning("order stream down: new entries are denied until it is back")
        case _:
            assert_never(msg)


async def _on_behalf_of(ask: RiskRequest, journal: JournalSink | None, work: Callable[[], T]) -> T:
    """``work`` on ``ask``: if it raises, the signal the request names is quarantined."""
    if journal is None or ask.signal_id is None:
        return work()
    # The executor holds the sender's ack; the daemon stopping closes its line.
    stake = [AtStake(ask.signal_id)]
    return await quarantined_call(work, journal, FailureStage.RISK, stake)


async def _decide(core: RiskGuardCore, ask: RiskRequest, journal: JournalSink | None) -> None:
    decision = await _on_behalf_of(
        ask, journal, partial(core.decide_asked, ask, trio.current_time())
    )
    if isinstance(decision, Denied):
        log.info("denied %s: %s %s", decision.client_order_id, decision.code, decision.detail)
    # The reply channel is the request's own, with a slot for this one answer.
    try:
        await ask.reply.send(decision)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        # Its executor is gone (the daemon stopping while the request was parked): nothing
        # will send the order, so nothing may stay reserved for it.
        core.release(ask.request.client_order_id, trio.current_time())
        log.info("risk decision for %s had no one to take it", ask.request.client_order_id)


async def _decide_due(core: RiskGuardCore, journal: JournalSink | None) -> None:
    """Decide every parked request the order-rate window has room for now."""
    while (ask := core.pop_due(trio.current_time())) is not None:
        await _decide(core, ask, journal)


async def _deny_blocked_entries(core: RiskGuardCore, journal: JournalSink | None) -> None:
    for ask in core.take_blocked_entries():
        await _decide(core, ask, journal)


async def _refresh_account(
    core: RiskGuardCore,
    venue: Venue,
    wake: trio.MemoryReceiveChannel[None],
    wall: Callable[[], datetime],
    persist: Callable[[], Any],
) -> None:
    while True:
        with trio.move_on_after(core.limits.account_refresh_interval):
            await wake.receive()
        if core.needs_clock(wall()):
            await read_clock(core, venue)
        read = core.begin_account_read()
        try:
            account = await venue.get_account()
        except AuthenticationFailed:
            core.account_read_failed(read)
            raise  # refused keys are the operator's to fix: never waited out
        except BrokerError as exc:
            core.account_read_failed(read)
            # The snapshot ages; past max_account_age new entries are denied, not guessed.
            log.warning("account refresh failed: %s", exc)
        else:
            # Fills and acks that landed meanwhile are corrected for, never a reason to drop
            # it: under steady fills no read would ever be kept.
            latch = core.set_account(account, trio.current_time(), wall(), read=read)
            await persist()
            if latch is not None:
                log.warning(
                    "daily loss limit breached (loss %s from %s): latched %s",
                    core.daily.loss(account.equity),
                    core.daily.start_equity,
                    latch,
                )


async def read_clock(core: RiskGuardCore, venue: ClockReader) -> None:
    """Give the core the venue's market clock (at startup, and once the held one ran out)."""
    try:
        core.set_clock(await venue.get_clock())
    except AuthenticationFailed:
        raise  # refused keys are the operator's to fix: never waited out
    except BrokerError as exc:
        # Without the day the daily loss is not counted; the next refresh tries again.
        log.warning("market clock read failed: %s", exc)


@attrs.frozen
class RiskHandle:
    """RiskGuard as the other actors and the operator see it: named read-only queries of its
    state (its task is the only writer) and the commands it takes through its inbox."""

    inbox: trio.MemorySendChannel[RiskInput]
    _core: RiskGuardCore

    @property
    def limits(self) -> RiskLimits:
        """The limits in force (a SIGHUP reload replaces them)."""
        return self._core.limits

    @property
    def halted(self) -> bool:
        return self._core.halted

    @property
    def latched(self) -> LatchMode | None:
        return self._core.latched

    @property
    def daily(self) -> DailyLoss:
        return self._core.daily

    @property
    def runaway(self) -> str | None:
        """Why the runaway breaker tripped (None: it has not, or ``resume`` cleared it)."""
        return self._core.runaway

    @property
    def parked(self) -> int:
        """Orders waiting for room in the order-rate window."""
        return self._core.parked

    def equity(self) -> Decimal | None:
        """The account's equity as last read (revalued at the latest prices)."""
        return self._core.equity

    def sized_entries(self) -> bool:
        """Entries are sized by the policy (a reload may add or drop it)."""
        return self._core.limits.sizing is not None

    def fresh_price(self, symbol: str) -> Decimal | None:
        """The last trade price, if no older than the limits allow for a decision."""
        return self._core.prices.last(symbol, trio.current_time(), self._core.limits.max_price_age)

    async def halt(self) -> None:
        """Deny new entries from now on; returns once the halt is in force and journaled."""
        done = trio.Event()
        await self.inbox.send(Halt(done=done))
        await done.wait()

    async def resume(self) -> None:
        """Lift a halt, a daily-loss latch and the runaway breaker; returns once done."""
        done = trio.Event()
        await self.inbox.send(Resume(done=done))
        await done.wait()

    async def set_limits(self, limits: RiskLimits) -> None:
        """Hand RiskGuard new limits (already validated); later decisions use them."""
        await self.inbox.send(SetLimits(limits=limits))


async def start_risk_guard(
    nursery: trio.Nursery,
    core: RiskGuardCore,
    venue: Venue | None = None,
    *,
    journal: JournalSink | None = None,
) -> RiskHandle:
    """RiskGuard's task, started in ``nursery``; its handle."""
    send, receive = trio.open_memory_channel[RiskInput](INBOX_SIZE)
    await nursery.start(partial(run_risk_guard, journal=journal), core, receive, venue)
    return RiskHandle(send, core)
