"""The daemon on a paper venue limited like Alpaca (200 requests a minute per key): a mixed
load of orders on three symbols, look-ups while the order stream is down, and a
reconciliation never gets a 429, and the venue never sees more than 200 in any minute."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import trio

from actors.messages import Ack
from actors.risk.limits import RiskLimits
from daemon.config import ALPACA_REQUESTS_PER_MINUTE
from tests.scenarios.daemon_on_sim import SYMBOLS, daemon_on_sim, signal
from tests.windows import busiest_minute

if TYPE_CHECKING:
    from pathlib import Path


SIGNALS_PER_SYMBOL = 40
# No order-rate cap and no duplicate window: the venue's budget alone paces this load. The
# account may age: the journal's thread is no task, so the autojump clock runs on while it
# writes, and this test is about the venue's count, not the snapshot's age.
UNCAPPED = RiskLimits(
    max_orders_per_second=None,
    max_orders_per_minute=None,
    max_open_orders=None,
    duplicate_window=0.0,
    max_account_age=3600.0,
)
# The load needs a few minutes of the budget; a stuck order fails the test here.
LOAD_LIMIT = 900.0


async def test_the_venue_sees_no_more_requests_a_minute_than_its_limit_across_a_mixed_load(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """120 orders (entries and exits) on three symbols looked up by REST, account reads and
    a reconciliation: every order fills, no 429, at most 200 in any minute at the venue."""
    async with daemon_on_sim(
        tmp_path,
        stream_down=True,
        risk=UNCAPPED,
        rate_limit_per_minute=ALPACA_REQUESTS_PER_MINUTE,
    ) as scenario:
        started = trio.current_time()
        lines = [
            signal(f"{symbol}-{n}", symbol, "buy" if n % 2 == 0 else "sell", 1)
            for n in range(SIGNALS_PER_SYMBOL)
            for symbol in SYMBOLS
        ]
        # All handed over before any ack comes back; the deadline is the whole load's: each
        # ack waits for the journal's thread, and the autojump clock runs on meanwhile.
        replies, acks = trio.open_memory_channel[Ack](len(lines))
        with trio.fail_after(LOAD_LIMIT):
            for line in lines:
                await scenario.daemon.intake.send(line, "test", replies)
            answers = [await acks.receive() for _ in lines]
            statuses = {a.status for a in answers}
            report = await scenario.daemon.reconciler.reconcile()
            await scenario.daemon.activity.wait_idle()
        assert statuses == {"accepted"}
        elapsed = trio.current_time() - started
        state = await scenario.venue.state()
    assert report is not None
    assert len(state["submissions"]) == SIGNALS_PER_SYMBOL * len(SYMBOLS)
    assert set(state["submissions"].values()) == {1}
    assert all(order["status"] == "filled" for order in state["orders"])
    assert {p["symbol"]: Decimal(p["qty"]) for p in state["positions"] if Decimal(p["qty"])} == {}
    assert state["rate_limited"] == 0
    assert busiest_minute(state["requests"]) <= ALPACA_REQUESTS_PER_MINUTE
    # The load did press the budget: more than a minute's worth, over more than a minute.
    assert len(state["requests"]) > ALPACA_REQUESTS_PER_MINUTE
    assert elapsed > 60.0
