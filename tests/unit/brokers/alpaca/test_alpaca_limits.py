"""What an Alpaca answer's headers tell the request budget."""

from __future__ import annotations

from datetime import UTC, datetime
from wsgiref.handlers import format_date_time

from brokers.alpaca.limits import UNHINTED_PAUSE, corrections
from brokers.budget import Pause, Remaining

NOW = datetime(2026, 1, 5, 14, 30, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())


def test_remaining_counts_until_a_second_past_the_whole_second_reset() -> None:
    """Remaining 7, reset 20 s on: 7 more within 21 s (the reset is floored to the second)."""
    headers = {"x-ratelimit-remaining": "7", "x-ratelimit-reset": str(EPOCH + 20)}
    assert corrections(200, headers, NOW) == [Remaining(7, 21.0)]


def test_a_reset_beyond_a_minute_is_a_clock_apart_and_counts_a_minute() -> None:
    """A venue clock an hour ahead cannot hold the budget for an hour: one window at most."""
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(EPOCH + 3600)}
    assert corrections(429, headers, NOW) == [Remaining(0, 60.0)]


def test_retry_after_pauses_the_budget() -> None:
    """A 429 (or a 503) with Retry-After 30: a pause of 30 s."""
    assert corrections(429, {"retry-after": "30"}, NOW) == [Pause(30.0)]
    assert corrections(503, {"retry-after": "30"}, NOW) == [Pause(30.0)]


def test_a_429_without_any_hint_pauses_briefly() -> None:
    """No headers at all: a short pause, then the budget's own count again."""
    assert corrections(429, {}, NOW) == [Pause(UNHINTED_PAUSE)]


def test_an_answer_without_limit_headers_corrects_nothing() -> None:
    """A 200 from a venue that sends no rate headers leaves the budget alone."""
    assert corrections(200, {"x-ratelimit-remaining": "junk"}, NOW) == []


def test_the_reset_counts_from_the_venues_date_not_our_clock() -> None:
    """A venue clock 10 minutes ahead of ours: its Date, not our time, says 21 s are left."""
    ahead = NOW.timestamp() + 600
    headers = {
        "date": format_date_time(ahead),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(ahead) + 20),
    }
    assert corrections(429, headers, NOW) == [Remaining(0, 21.0)]
