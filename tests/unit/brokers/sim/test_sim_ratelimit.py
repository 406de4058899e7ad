"""The venue's per-minute request limit: a one-minute window, then 429 until it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brokers.sim.alpaca.ratelimit import RateLimit

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_requests_beyond_the_limit_wait_for_the_next_window() -> None:
    """Two per minute: the third request in the minute is refused, the next minute admits."""
    limit = RateLimit(2)
    first = limit.take(T0)
    second = limit.take(T0 + timedelta(seconds=10))
    third = limit.take(T0 + timedelta(seconds=59))
    assert [first.allowed, second.allowed, third.allowed] == [True, True, False]
    assert [d.headers["X-Ratelimit-Remaining"] for d in (first, second, third)] == ["1", "0", "0"]
    reset = int((T0 + timedelta(minutes=1)).timestamp())
    assert third.headers == {
        "X-Ratelimit-Limit": "2",
        "X-Ratelimit-Remaining": "0",
        "X-Ratelimit-Reset": str(reset),
    }
    assert limit.take(T0 + timedelta(seconds=60)).allowed


def test_a_limit_must_be_positive() -> None:
    """A limit of zero requests per minute is a configuration error."""
    with pytest.raises(ValueError, match="must be > 0"):
        RateLimit(0)
