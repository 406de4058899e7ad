from __future__ import annotations

import functools
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import TYPE_CHECKING

import attrs
import msgspec
import trio
import trio.testing

from actors.messages import (
    Approved,
    Denied,
    Halt,
    ReleaseReservation,
    Resume,
    RiskInput,
    RiskRequest,
    SetLimits,
    StreamHealth,
)
from actors.prices import PriceBook
from actors.records import RiskStateRecorded
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import run_risk_guard
from brokers.base import Account, MarketClock
from brokers.errors import BrokerUnavailable
from tests.builders import request
from tests.journal_fake import MemoryJournal

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# 23:00 New York on a Monday: the session-boundary trading day rolls over an hour in.
START = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)
# 15:00 New York on a Monday: the venue's session closes an hour in (16:00).
BEFORE_CLOSE = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
SESSION = RiskLimits(account_refresh_interval=5.0, trading_day="session")


@attrs.define
class FakeVenue:
    """The venue's account and clock endpoints: what they report, and when asked. The
    market closes at 21:00 UTC every day, as the paper venue's clock says."""

    start: datetime = START
    equity: D = D(1000)
    last_equity: D | None = None
    asked_at: list[float] = attrs.field(factory=list)
    clock_asked_at: list[float] = attrs.field(factory=list)
    clock_down: bool = False

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=trio.current_time())

    async def get_account(self) -> Account:
        self.asked_at.append(trio.current_time())
        return Account(
            cash=self.equity,
            buying_power=self.equity,
            equity=self.equity,
            last_equity=self.last_equity,
        )

    async def get_clock(self) -> MarketClock:
        self.clock_asked_at.append(trio.current_time())
        if self.clock_down:
            raise BrokerUnavailable("clock down", request_may_have_arrived=False)
        now = self.wall()
        close = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=21)
        if close <= now:
            close += timedelta(days=1)
        return MarketClock(
            timestamp=now, is_open=True, next_open=close + timedelta(hours=17.5), next_close=close
        )


@asynccontextmanager
async def running_guard(
    venue: FakeVenue,
    limits: RiskLimits,
    journal: MemoryJournal | None = None,
) -> AsyncIterator[tuple[RiskGuardCore, trio.MemorySendChannel[RiskInput]]]:
    """A guard started as the supervisor starts it: restored from the journal, given the
    clock and the account, then left to its loop."""
    prices = PriceBook()
    core = RiskGuardCore(limits, prices)
    if journal is not None and (state := journal.last(RiskStateRecorded)) is not None:
        core.restore(state)
    if core.needs_clock(venue.wall()):
        core.set_clock(await venue.get_clock())
    core.set_account(await venue.get_account(), trio.current_time(), venue.wall())
    send, recv = trio.open_memory_channel[RiskInput](16)
    async with trio.open_nursery() as nursery:
        start = functools.partial(run_risk_guard, wall=venue.wall, journal=journal)
        await nursery.start(start, core, recv, venue)
        yield core, send
        nursery.cancel_scope.cancel()


async def ask(inbox: trio.MemorySendChannel[RiskInput], cid: str) -> Approved | Denied:
    reply_send, reply_recv = trio.open_memory_channel[Approved | Denied](1)
    await inbox.send(
        RiskRequest(request=request(cid, qty="1"), position_qty=D(0), reply=reply_send)
    )
    return await reply_recv.receive()


async def test_account_is_read_once_per_interval(autojump_clock: trio.abc.Clock) -> None:
    """Without refusals the venue is asked for the account once per refresh interval."""
    venue = FakeVenue()
    async with running_guard(venue, SESSION):
        await trio.sleep(16)
    assert venue.asked_at == [0.0, 5.0, 10.0, 15.0]


async def test_venue_refusal_reads_the_account_at_once(autojump_clock: trio.abc.Clock) -> None:
    """An entry released after a venue refusal triggers an account read before the interval."""
    venue = FakeVenue()
    async with running_guard(venue, SESSION) as (core, inbox):
        core.prices.update("AAPL", D(10), trio.current_time())
        await trio.sleep(1)
        assert isinstance(await ask(inbox, "a"), Approved)
        await inbox.send(ReleaseReservation(client_order_id="a"))
        await trio.testing.wait_all_tasks_blocked()
        assert venue.asked_at == [0.0, 1.0]


async def test_000_daily_reset_across_midnight(autojump_clock: trio.abc.Clock) -> None:
    """Start-of-day equity is retaken at the boundary: yesterday's loss does not latch today
    (000), while a loss within the new day does."""
    venue = FakeVenue(equity=D(1000))
    limits = msgspec.structs.replace(SESSION, daily_loss_limit=D("0.05"))
    async with running_guard(venue, limits) as (core, _):
        venue.equity = D(960)  # down 4% on Monday
        await trio.sleep(3600 + 10)  # past midnight New York
        assert core.daily.start_equity == D(960)
        assert core.latched is None
        venue.equity = D(930)  # 7% below Monday's start, but only 3.1% on Tuesday
        await trio.sleep(10)
        assert core.latched is None
        venue.equity = D(911)  # down 5.1% on Tuesday
        await trio.sleep(10)
        assert core.latched == "reducing"


async def test_000_venue_day_resets_at_the_close(autojump_clock: trio.abc.Clock) -> None:
    """With the venue's calendar, the day ends at the market's close: the clock is read at
    startup and once after each close, never per refresh."""
    venue = FakeVenue(start=BEFORE_CLOSE, equity=D(1000))
    limits = RiskLimits(account_refresh_interval=5.0, daily_loss_limit=D("0.05"))
    async with running_guard(venue, limits) as (core, _):
        assert core.daily.day is not None
        assert core.daily.day.isoformat() == "2026-01-05"
        venue.equity = D(960)
        await trio.sleep(3600 - 10)  # 15:59:50 New York: still Monday
        assert core.daily.start_equity == D(1000)
        await trio.sleep(20)  # past the close
        assert core.daily.day is not None
        assert core.daily.day.isoformat() == "2026-01-06"
        assert core.daily.start_equity == D(960)
        venue.equity = D(911)
        await trio.sleep(10)
        assert core.latched == "reducing"
    assert venue.clock_asked_at == [0.0, 3600.0]


async def test_a_failed_clock_read_is_retried_and_counts_nothing_meanwhile(
    autojump_clock: trio.abc.Clock,
) -> None:
    """No clock, no trading day: the loss is not counted (never guessed) until a read works."""
    venue = FakeVenue(start=BEFORE_CLOSE, equity=D(1000), clock_down=True)
    limits = RiskLimits(account_refresh_interval=5.0, daily_loss_limit=D("0.05"))
    core = RiskGuardCore(limits, PriceBook())
    _, recv = trio.open_memory_channel[RiskInput](1)
    async with trio.open_nursery() as nursery:
        start = functools.partial(run_risk_guard, wall=venue.wall)
        await nursery.start(start, core, recv, venue)
        await trio.sleep(11)
        assert core.daily.day is None
        venue.clock_down = False
        await trio.sleep(5)
        assert core.daily.day is not None
        nursery.cancel_scope.cancel()
    assert venue.clock_asked_at == [5.0, 10.0, 15.0]


async def test_latch_and_day_survive_a_restart(autojump_clock: trio.abc.Clock) -> None:
    """A restart mid-day keeps the day's start equity and the latch (journaled), so it
    neither resets the daily loss nor lifts the latch; only resume does."""
    venue = FakeVenue(start=BEFORE_CLOSE, equity=D(1000))
    journal = MemoryJournal()
    limits = RiskLimits(account_refresh_interval=5.0, daily_loss_limit=D("0.05"))
    async with running_guard(venue, limits, journal) as (core, _):
        venue.equity = D(940)
        await trio.sleep(6)
        assert core.latched == "reducing"
    # The restart: a new guard, the same journal; the equity recovered a little.
    venue.equity = D(955)
    async with running_guard(venue, limits, journal) as (core, inbox):
        assert core.latched == "reducing"
        assert core.daily.start_equity == D(1000)
        core.prices.update("AAPL", D(10), trio.current_time())
        denied = await ask(inbox, "a")
        assert isinstance(denied, Denied)
        assert denied.code == "daily_loss_reducing"
        resumed = trio.Event()
        await inbox.send(Resume(done=resumed))
        await resumed.wait()
    state = journal.last(RiskStateRecorded)
    assert state is not None
    assert state.latched is None
    assert not state.halted


async def test_a_halt_survives_a_restart_until_resume(autojump_clock: trio.abc.Clock) -> None:
    """The halt is journaled before it is reported in force; a restart keeps it."""
    venue, journal = FakeVenue(), MemoryJournal()
    async with running_guard(venue, SESSION, journal) as (core, inbox):
        halted = trio.Event()
        await inbox.send(Halt(done=halted))
        await halted.wait()
        state = journal.last(RiskStateRecorded)
        assert state is not None
        assert state.halted
    async with running_guard(venue, SESSION, journal) as (core, inbox):
        assert core.halted
        resumed = trio.Event()
        await inbox.send(Resume(done=resumed))
        await resumed.wait()
    async with running_guard(venue, SESSION, journal) as (core, _):
        assert not core.halted


async def test_a_mid_day_first_start_counts_from_the_previous_close(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Started for the first time after losing 6% since yesterday's close, the guard
    latches at once: the start equity is the venue's last_equity, not the equity found."""
    venue = FakeVenue(start=BEFORE_CLOSE, equity=D(940), last_equity=D(1000))
    limits = RiskLimits(account_refresh_interval=5.0, daily_loss_limit=D("0.05"))
    async with running_guard(venue, limits) as (core, _):
        assert core.latched == "reducing"
        assert core.daily.start_equity == D(1000)


async def test_halt_and_resume_messages(autojump_clock: trio.abc.Clock) -> None:
    """Halt is in force once its event is set; Resume lifts it."""
    async with running_guard(FakeVenue(), SESSION) as (core, inbox):
        halted, resumed = trio.Event(), trio.Event()
        await inbox.send(Halt(done=halted))
        await halted.wait()
        assert core.halted
        await inbox.send(Resume(done=resumed))
        await resumed.wait()
        assert not core.halted


async def test_new_limits_by_message_apply_to_the_next_decision(
    autojump_clock: trio.abc.Clock,
) -> None:
    """SetLimits (a SIGHUP reload) changes what the next request is checked against."""
    async with running_guard(FakeVenue(), SESSION) as (core, inbox):
        core.prices.update("AAPL", D(10), trio.current_time())
        assert isinstance(await ask(inbox, "a"), Approved)
        await inbox.send(SetLimits(limits=msgspec.structs.replace(SESSION, max_order_qty=D(0))))
        denied = await ask(inbox, "b")
        assert isinstance(denied, Denied)
        assert denied.code == "max_order_qty"


async def test_stream_health_by_message_gates_entries(autojump_clock: trio.abc.Clock) -> None:
    """With refuse_entries_when_stream_down, a StreamHealth(down) denies entries until up."""
    limits = msgspec.structs.replace(SESSION, refuse_entries_when_stream_down=True)
    async with running_guard(FakeVenue(), limits) as (core, inbox):
        core.prices.update("AAPL", D(10), trio.current_time())
        await inbox.send(StreamHealth(healthy=False))
        denied = await ask(inbox, "a")
        assert isinstance(denied, Denied)
        assert denied.code == "stream_unhealthy"
        await inbox.send(StreamHealth(healthy=True))
        assert isinstance(await ask(inbox, "b"), Approved)


async def test_the_held_book_is_revalued_while_idle(autojump_clock: trio.abc.Clock) -> None:
    """New prices are taken into the book in idle time, not left for the next order."""
    async with running_guard(FakeVenue(), SESSION) as (core, _):
        core.prices.update("AAPL", D(10), trio.current_time())
        core.load_positions({"AAPL": D(5)})
        core.prices.update("AAPL", D(11), trio.current_time())
        await trio.sleep(0.6)
        assert core.prices.take_changed() == set()


async def test_000_a_restart_across_the_close_starts_from_the_venues_close(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Down over the close, the daemon comes back on a new day: its start equity is the
    venue's last_equity (Monday's close), neither the journal's Monday start nor the
    equity found on Tuesday."""
    venue = FakeVenue(start=BEFORE_CLOSE, equity=D(1000))
    journal = MemoryJournal()
    limits = RiskLimits(account_refresh_interval=5.0, daily_loss_limit=D("0.05"))
    async with running_guard(venue, limits, journal) as (core, _):
        venue.equity = D(960)
        await trio.sleep(10)
        assert core.daily.start_equity == D(1000)
        assert core.latched is None
    await trio.sleep(2 * 3600)  # down over Monday's close
    venue.equity, venue.last_equity = D(950), D(960)
    async with running_guard(venue, limits, journal) as (core, _):
        assert core.daily.day is not None
        assert core.daily.day.isoformat() == "2026-01-06"
        assert core.daily.start_equity == D(960)
        venue.equity = D(911)  # 5.1% below Monday's close
        await trio.sleep(6)
        assert core.latched == "reducing"
    state = journal.last(RiskStateRecorded)
    assert state is not None
    assert state.start_equity == D(960)


async def test_an_answer_nobody_can_take_leaves_nothing_reserved(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A request whose executor is gone before its answer (parked while the daemon stops)
    is released, and the guard goes on deciding for the others."""
    venue = FakeVenue()
    async with running_guard(venue, SESSION) as (core, inbox):
        core.prices.update("AAPL", D(10), trio.current_time())
        reply_send, reply_recv = trio.open_memory_channel[Approved | Denied](1)
        reply_recv.close()
        await inbox.send(
            RiskRequest(request=request("gone", qty="1"), position_qty=D(0), reply=reply_send)
        )
        await trio.testing.wait_all_tasks_blocked()
        assert core.reserved == 0
        assert isinstance(await ask(inbox, "next"), Approved)
