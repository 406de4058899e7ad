from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import attrs
import trio
import trio.testing

from actors.messages import Approved, Denied, ReleaseReservation, RiskRequest
from actors.prices import PriceBook
from actors.risk_core import RiskGuardCore
from actors.risk_guard import Halt, Resume, RiskInput, run_risk_guard
from actors.risk_limits import RiskLimits
from brokers.base import Account
from tests.builders import request

# 23:00 New York on a Monday: the trading day rolls over an hour in.
START = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)


@attrs.define
class VenueAccount:
    """The venue's account endpoint: what it reports, and when it was asked."""

    equity: D = D(1000)
    asked_at: list[float] = attrs.field(factory=list)

    async def get_account(self) -> Account:
        self.asked_at.append(trio.current_time())
        return Account(cash=self.equity, buying_power=self.equity, equity=self.equity)


def wall_clock() -> Callable[[], datetime]:
    return lambda: START + timedelta(seconds=trio.current_time())


@asynccontextmanager
async def running_guard(
    venue: VenueAccount, limits: RiskLimits
) -> AsyncIterator[tuple[RiskGuardCore, trio.MemorySendChannel[RiskInput]]]:
    prices = PriceBook()
    core = RiskGuardCore(limits, prices)
    core.set_account(await venue.get_account(), trio.current_time(), wall_clock()())
    send, recv = trio.open_memory_channel[RiskInput](16)
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(run_risk_guard, wall=wall_clock()), core, recv, venue)
        yield core, send
        nursery.cancel_scope.cancel()


async def test_account_is_read_once_per_interval(autojump_clock: trio.abc.Clock) -> None:
    """Without refusals the venue is asked for the account once per refresh interval."""
    venue = VenueAccount()
    async with running_guard(venue, RiskLimits(account_refresh_interval=5.0)):
        await trio.sleep(16)
    assert venue.asked_at == [0.0, 5.0, 10.0, 15.0]


async def test_venue_refusal_reads_the_account_at_once(autojump_clock: trio.abc.Clock) -> None:
    """An entry released after a venue refusal triggers an account read before the interval."""
    venue = VenueAccount()
    async with running_guard(venue, RiskLimits(account_refresh_interval=5.0)) as (core, inbox):
        core.prices.update("AAPL", D(10), trio.current_time())
        await trio.sleep(1)
        reply_send, reply_recv = trio.open_memory_channel[Approved | Denied](1)
        await inbox.send(
            RiskRequest(request=request("a", qty="1"), position_qty=D(0), reply=reply_send)
        )
        assert isinstance(await reply_recv.receive(), Approved)
        await inbox.send(ReleaseReservation(client_order_id="a"))
        await trio.testing.wait_all_tasks_blocked()
        assert venue.asked_at == [0.0, 1.0]


async def test_000_daily_reset_across_midnight(autojump_clock: trio.abc.Clock) -> None:
    """Start-of-day equity is retaken at the boundary: yesterday's loss does not latch today
    (000), while a loss within the new day does."""
    venue = VenueAccount(equity=D(1000))
    limits = RiskLimits(account_refresh_interval=5.0, daily_loss_limit=D("0.05"))
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


async def test_halt_and_resume_messages(autojump_clock: trio.abc.Clock) -> None:
    """Halt is in force once its event is set; Resume lifts it."""
    async with running_guard(VenueAccount(), RiskLimits()) as (core, inbox):
        halted, resumed = trio.Event(), trio.Event()
        await inbox.send(Halt(done=halted))
        await halted.wait()
        assert core.halted
        await inbox.send(Resume(done=resumed))
        await resumed.wait()
        assert not core.halted
