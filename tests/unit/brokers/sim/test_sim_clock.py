"""The venue's clock and sessions: venue time follows trio's clock, moves on by request,
never back, and knows when each session opens and closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trio

from brokers.sim.core.clock import VenueClock
from brokers.sim.core.sessions import SessionChange, changes_between, next_change

MORNING = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_next_change_is_the_open_or_the_close_strictly_after() -> None:
    """Before the open the next change is the open; at the close, the next open."""
    assert next_change(MORNING) == at(14, 30)
    assert next_change(at(14, 30)) == at(21)
    assert next_change(at(21)) == at(14, 30, day=6)


def test_changes_between_lists_every_open_and_close_once() -> None:
    """Two days crossed at once give both closes and opens in order; the start is excluded
    and the end included."""
    assert changes_between(at(21), at(21, day=7)) == [
        (at(14, 30, day=6), SessionChange.OPEN),
        (at(21, day=6), SessionChange.CLOSE),
        (at(14, 30, day=7), SessionChange.OPEN),
        (at(21, day=7), SessionChange.CLOSE),
    ]
    assert changes_between(at(15), at(20, 59)) == []


async def test_venue_time_runs_with_trio_time(autojump_clock: Any) -> None:
    """A trio sleep of an hour moves venue time on by exactly an hour."""
    clock = VenueClock.starting_at(MORNING)
    assert clock() == MORNING
    await trio.sleep(3600)
    assert clock() == MORNING + timedelta(hours=1)


async def test_advance_moves_on_and_never_back(autojump_clock: Any) -> None:
    """advance and move_to shift venue time; going back is refused and changes nothing."""
    clock = VenueClock.starting_at(MORNING)
    assert clock.advance(timedelta(minutes=5)) == MORNING + timedelta(minutes=5)
    assert clock.move_to(at(21)) == at(21)
    with pytest.raises(ValueError, match="never goes back"):
        clock.move_to(MORNING)
    with pytest.raises(ValueError, match="timezone"):
        clock.move_to(datetime(2026, 1, 6))
    assert clock() == at(21)


async def test_sleep_until_wakes_on_time_or_when_moved_past(autojump_clock: Any) -> None:
    """A sleeper wakes when trio time brings venue time there, or at once when the clock is
    moved past it."""
    clock = VenueClock.starting_at(MORNING)
    await clock.sleep_until(MORNING + timedelta(seconds=90))
    assert clock() == MORNING + timedelta(seconds=90)
    woke_at: list[float] = []

    async def sleeper() -> None:
        await clock.sleep_until(at(21))
        woke_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sleeper)
        await trio.sleep(10)
        moved_at = trio.current_time()
        clock.move_to(at(21))
    assert woke_at == [moved_at]


def test_a_naive_start_is_refused() -> None:
    """The venue's start time must say its offset."""
    with pytest.raises(ValueError, match="timezone-aware"):
        VenueClock.starting_at(datetime(2026, 1, 5))
