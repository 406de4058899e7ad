"""Order pacing and the request budget together, through the real daemon and the paper
venue under the autojump clock: orders the budget holds back (a 429 with Retry-After) are
not on the wire yet, so RiskGuard's window must not count them as sent and let more in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest
import trio

from actors.risk.limits import RiskLimits
from tests.scenarios.pacing_world import (
    BASKET_SYMBOLS,
    line,
    paced_daemon,
    paper_venue,
    send_all,
)
from tests.windows import busiest

if TYPE_CHECKING:
    from pathlib import Path

    import trio.testing

DEFAULTS = RiskLimits()
RETRY_AFTER = 10


@pytest.fixture
def clock(autojump_clock: trio.testing.MockClock) -> trio.testing.MockClock:
    """A tenth of a real second idle before the clock jumps (as in test_pacing)."""
    autojump_clock.autojump_threshold = 0.1
    return autojump_clock


async def test_orders_held_by_the_request_budget_never_reach_the_venue_above_the_cap(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """A 429 with Retry-After holds new orders 10 s at the budget: when they go, the venue
        still sees no more than max_orders_per_second of them in any second (and the 429'd one's
    resend), and all trade."""
    symbols = BASKET_SYMBOLS
    async with (
        paper_venue(symbols) as (endpoints, control),
        paced_daemon(tmp_path, endpoints, control, DEFAULTS, symbols) as run,
    ):
        await control.fault("http_status", status=429, count=1, retry_after=RETRY_AFTER)
        bodies = [line(f"held-{k}-{s}", s, "buy", qty=k + 1) for k in range(2) for s in symbols]
        acks = await send_all(run, bodies)
        await run.settle()
        assert {a.status for a in acks} == {"accepted"}
        state = await control.state()
    orders = state["orders"]
    assert len(orders) == len(bodies)
    assert all(o["status"] == "filled" for o in orders)
    arrived = [datetime.fromisoformat(o["submitted_at"]) for o in orders]
    assert DEFAULTS.max_orders_per_second is not None
    # Before the window waited for the POSTs, all 30 went in the same instant. The one
    # extra allowed: the refused POST's own resend goes out without asking RiskGuard again.
    assert busiest((at.timestamp() for at in arrived), 1.0) <= DEFAULTS.max_orders_per_second + 1
