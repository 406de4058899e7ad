"""Whatever calls, answers, latencies and corrections come, the venue never sees more calls
in any window than the allowance, every waiter gets through, each priority in its order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.base import RequestPriority
from brokers.budget import Allowance, Pause, Remaining, RequestBudget
from brokers.sim.alpaca.ratelimit import RateLimit
from tests.windows import busiest

priorities = st.sampled_from(list(RequestPriority))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), priorities, st.integers(1, 8)),
        st.tuples(st.just("wait"), st.floats(0, 90, allow_nan=False)),
        st.tuples(st.just("answer"), st.integers(0, 50), st.floats(0, 1)),
        st.tuples(st.just("unsent"), st.integers(0, 50)),
        st.tuples(st.just("remaining"), st.integers(0, 10), st.floats(0, 60, allow_nan=False)),
        st.tuples(st.just("pause"), st.floats(0, 120, allow_nan=False), st.booleans()),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(
    steps=steps,
    per_minute=st.integers(1, 12),
    reserve=st.integers(0, 3),
    hourly=st.none() | st.integers(1, 30),
    lookups=st.none() | st.integers(1, 5),
)
def test_no_window_ever_holds_more_than_the_allowance(
    steps: list[tuple[Any, ...]],
    per_minute: int,
    reserve: int,
    hourly: int | None,
    lookups: int | None,
) -> None:
    """Judged by a sliding count and by the paper venue's own fixed window: never over."""
    allowances = [Allowance(per_minute, 60.0, reserve=min(reserve, per_minute - 1))]
    if hourly is not None:
        allowances.append(Allowance(hourly, 3600.0))
    shares = {} if lookups is None else {RequestPriority.LOOKUP: Allowance(lookups, 10.0)}
    core = RequestBudget(tuple(allowances), shares)
    now = 0.0
    asked: dict[int, RequestPriority] = {}
    granted_at: dict[int, float] = {}
    order: list[int] = []
    arrivals: list[float] = []

    def grant() -> None:
        for ticket in core.grant(now):
            granted_at[ticket] = now
            order.append(ticket)

    for step in steps:
        match step:
            case ("ask", priority, count):
                for _ in range(count):
                    asked[core.ask(priority, now)] = priority
            case ("wait", seconds):
                now += seconds
            case ("answer", index, latency):
                out = [t for t in order if t in granted_at]
                if out:
                    ticket = out[index % len(out)]
                    sent = granted_at.pop(ticket)
                    arrivals.append(sent + latency * (now - sent))
                    core.finished(ticket, now)
            case ("unsent", index):
                out = [t for t in order if t in granted_at]
                if out:
                    granted_at.pop(out[index % len(out)])
                    core.finished(out[index % len(out)], now, sent=False)
            case ("remaining", count, within):
                core.correct(Remaining(count, within), now)
            case ("pause", seconds, urgent_too):
                core.correct(Pause(seconds, urgent_too=urgent_too), now)
        grant()
    # The rest answered at once, a deadline at a time: every waiter gets through.
    for _ in range(len(asked) + 2):
        for ticket in list(granted_at):
            arrivals.append(granted_at.pop(ticket))
            core.finished(ticket, now)
        if not core.waiting:
            break
        now = max(now, core.next_deadline(now))
        grant()
    assert core.waiting == 0
    assert sorted(order) == sorted(asked)
    for allowance in allowances:
        assert busiest(arrivals, allowance.seconds) <= allowance.requests
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    venue = RateLimit(per_minute)
    for at in sorted(arrivals):
        assert venue.take(start + timedelta(seconds=at)).allowed
    for priority in RequestPriority:
        mine = [t for t in order if asked[t] is priority]
        assert mine == sorted(mine), "first come, first served within a priority"
