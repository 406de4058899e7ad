"""Order pacing and the runaway breaker, through the real daemon and the paper venue over
loopback, under the autojump clock: a legitimate burst is paced, never dropped; a runaway
strategy trips a latched breaker with at most a minute's allowance sent; reversals are not
mistaken for duplicates."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
import pytest
import trio
import trio.testing

from actors.risk.limits import RiskLimits
from tests.scenarios.pacing_world import (
    BASKET_SYMBOLS,
    line,
    paced_daemon,
    paper_venue,
    send_all,
    send_at_rate,
)

if TYPE_CHECKING:
    from pathlib import Path

DEFAULTS = RiskLimits()


@pytest.fixture
def clock(autojump_clock: trio.testing.MockClock) -> trio.testing.MockClock:
    """The clock jumps only after a tenth of a real second with nothing to do, so a journal
    commit or a loopback answer is never overtaken by a timer."""
    autojump_clock.autojump_threshold = 0.1
    return autojump_clock


async def test_a_100_signal_basket_over_20_symbols_fills_every_order_in_order(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Five buys on each of 20 symbols at once: all traded, per symbol in the order sent,
    within 100 / max_orders_per_second + 2 seconds (issue #14: 20 of 30 were denied)."""
    per_symbol = 5
    sent = [
        (f"basket-{k}-{symbol}", symbol, k + 1)
        for k in range(per_symbol)
        for symbol in BASKET_SYMBOLS
    ]
    async with (
        paper_venue(BASKET_SYMBOLS) as (endpoints, control),
        paced_daemon(tmp_path, endpoints, control, DEFAULTS, BASKET_SYMBOLS) as run,
    ):
        start = trio.current_time()
        acks = await send_all(run, [line(sid, sym, "buy", qty=q) for sid, sym, q in sent])
        await run.settle()
        elapsed = trio.current_time() - start
        assert {a.status for a in acks} == {"accepted"}
        assert run.daemon.risk.runaway is None
        expected = {s: [sid for sid, sym, _ in sent if sym == s] for s in BASKET_SYMBOLS}
        assert run.filled_signals_by_symbol() == expected
        assert await run.submissions() == len(sent)
        assert run.daemon.positions() == {s: Decimal(15) for s in BASKET_SYMBOLS}
    assert DEFAULTS.max_orders_per_second is not None
    assert elapsed <= len(sent) / DEFAULTS.max_orders_per_second + 2


async def test_a_thousand_signals_a_second_trip_the_breaker(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """A loop sending 1,000 buys a second: the breaker trips, every signal is answered, and
    no more than a minute's allowance reaches the venue."""
    symbols = ("LOOP",)
    bodies = [line(f"loop-{i}", "LOOP", "buy", qty=i % 400 + 1) for i in range(2000)]
    async with (
        paper_venue(symbols) as (endpoints, control),
        paced_daemon(tmp_path, endpoints, control, DEFAULTS, symbols) as run,
    ):
        acks = await send_at_rate(run, bodies, per_second=1000)
        await run.settle()
        assert len(acks) == len(bodies)
        runaway = run.daemon.risk.runaway
        assert runaway is not None
        assert runaway.startswith("backlog")
        assert await run.submissions() <= (DEFAULTS.max_orders_per_minute or 0)
        assert run.daemon.unresolved() == 0


async def test_a_flapping_buy_sell_loop_trips_the_breaker(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Buy, sell, buy, sell at 50 a second: the sells reduce the position and count all the
    same; the breaker trips with at most a minute's allowance sent, and what is left at the
    venue is what the daemon holds."""
    symbols = ("FLAP",)
    bodies = [
        line(f"flap-{i}", "FLAP", "buy" if i % 2 == 0 else "sell", qty=i // 2 % 50 + 1)
        for i in range(600)
    ]
    async with (
        paper_venue(symbols) as (endpoints, control),
        paced_daemon(tmp_path, endpoints, control, DEFAULTS, symbols) as run,
    ):
        acks = await send_at_rate(run, bodies, per_second=50)
        await run.settle()
        assert len(acks) == len(bodies)
        assert run.daemon.risk.runaway is not None
        assert await run.submissions() <= (DEFAULTS.max_orders_per_minute or 0)
        assert run.daemon.positions() == await run.venue_positions()


async def test_the_breaker_latch_survives_a_restart_and_resume_clears_it(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Tripped in one run, still denying entries after a restart; resume lifts it, and the
    next restart finds it lifted."""
    symbols = ("LOOP",)
    tight = msgspec.structs.replace(DEFAULTS, max_orders_per_second=2, max_orders_per_minute=10)
    bodies = [line(f"run1-{i}", "LOOP", "buy", qty=i + 1) for i in range(60)]
    async with paper_venue(symbols) as (endpoints, control):
        async with paced_daemon(tmp_path, endpoints, control, tight, symbols) as run:
            await send_at_rate(run, bodies, per_second=100)
            await run.settle()
            assert run.daemon.risk.runaway is not None
        async with paced_daemon(tmp_path, endpoints, control, tight, symbols) as run:
            assert run.daemon.risk.runaway is not None
            [denied] = await send_all(run, [line("run2-entry", "LOOP", "buy", qty=3)])
            assert denied.status == "rejected"
            assert "runaway_breaker" in (denied.reason or "")
            await run.daemon.risk.resume()
            assert run.daemon.risk.runaway is None
            [ok] = await send_all(run, [line("run2-after", "LOOP", "buy", qty=4)])
            assert ok.status == "accepted"
            await run.settle()
        async with paced_daemon(tmp_path, endpoints, control, tight, symbols) as run:
            assert run.daemon.risk.runaway is None


async def test_quick_reversals_by_target_end_at_the_last_signals_position(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Ten reversals between +3 and -3 within a second, each its own signal: no leg is
    denied as a duplicate of an earlier one, and the position ends at the last target."""
    symbols = ("REV",)
    targets = [3 if i % 2 == 0 else -3 for i in range(10)]
    bodies = [line(f"tgt-{i}", "REV", "target", target_qty=t) for i, t in enumerate(targets)]
    async with (
        paper_venue(symbols) as (endpoints, control),
        paced_daemon(tmp_path, endpoints, control, DEFAULTS, symbols) as run,
    ):
        acks = await send_all(run, bodies)
        await run.settle()
        assert {a.status for a in acks} == {"accepted"}
        assert run.daemon.positions() == {"REV": Decimal(targets[-1])}
        assert await run.venue_positions() == {"REV": Decimal(targets[-1])}


async def test_quick_reversals_by_buy_and_sell_across_zero_end_at_the_last_signals_position(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Buy 3, then sell 6, buy 6, ... quickly: every order across zero goes out as its two
    legs, none denied as a duplicate, and the position ends where the last signal put it."""
    symbols = ("REV",)
    bodies = [line("rev-0", "REV", "buy", qty=3)]
    bodies += [line(f"rev-{i}", "REV", "sell" if i % 2 else "buy", qty=6) for i in range(1, 11)]
    async with (
        paper_venue(symbols) as (endpoints, control),
        paced_daemon(tmp_path, endpoints, control, DEFAULTS, symbols) as run,
    ):
        acks = await send_all(run, bodies)
        await run.settle()
        assert {a.status for a in acks} == {"accepted"}
        assert run.daemon.positions() == {"REV": Decimal(3)}
        assert await run.venue_positions() == {"REV": Decimal(3)}
