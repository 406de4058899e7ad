"""CME Globex hours in Chicago time, in winter (CST, UTC-6) and in summer (CDT, UTC-5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from brokers.sim.core.globex import (
    GlobexChange,
    changes_between,
    is_open,
    next_change,
    trading_date,
)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        # CST: Monday 2026-01-05. The break is 22:00-23:00 UTC.
        (utc(2026, 1, 5, 21, 59), True),
        (utc(2026, 1, 5, 22, 0), False),
        (utc(2026, 1, 5, 22, 59), False),
        (utc(2026, 1, 5, 23, 0), True),
        # CDT: Monday 2026-07-06. The break is 21:00-22:00 UTC.
        (utc(2026, 7, 6, 20, 59), True),
        (utc(2026, 7, 6, 21, 0), False),
        (utc(2026, 7, 6, 22, 0), True),
        # The weekend: Friday 16:00 to Sunday 17:00 Chicago.
        (utc(2026, 1, 9, 21, 59), True),
        (utc(2026, 1, 9, 22, 0), False),
        (utc(2026, 1, 9, 23, 30), False),
        (utc(2026, 1, 10, 12, 0), False),
        (utc(2026, 1, 11, 22, 59), False),
        (utc(2026, 1, 11, 23, 0), True),
        (utc(2026, 7, 12, 22, 0), True),
    ],
)
def test_open_hours(moment: datetime, open_: bool) -> None:
    """Open 17:00-16:00 Chicago Sunday to Friday, in the break and the weekend closed."""
    assert is_open(moment) is open_


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (utc(2026, 1, 5, 21, 59), date(2026, 1, 5)),  # Monday afternoon: Monday's
        (utc(2026, 1, 5, 23, 0), date(2026, 1, 6)),  # Monday 17:00 CST: Tuesday's
        (utc(2026, 7, 6, 22, 0), date(2026, 7, 7)),  # Monday 17:00 CDT: Tuesday's
        (utc(2026, 7, 6, 21, 30), date(2026, 7, 6)),  # in the CDT break: still Monday's
        (utc(2026, 1, 11, 23, 0), date(2026, 1, 12)),  # Sunday's open: Monday's
        (utc(2026, 1, 10, 12, 0), date(2026, 1, 12)),  # Saturday: the coming Monday's
        (utc(2026, 1, 9, 23, 30), date(2026, 1, 12)),  # Friday evening: Monday's
    ],
)
def test_trading_date(moment: datetime, day: date) -> None:
    """The trading day begins at 17:00 Chicago; the Sunday session is Monday's."""
    assert trading_date(moment) == day


def test_next_change_across_the_weekend() -> None:
    """After Friday's close the next change is Sunday's open, 17:00 CST = 23:00 UTC."""
    assert next_change(utc(2026, 1, 9, 21, 0)) == (utc(2026, 1, 9, 22, 0), GlobexChange.CLOSE)
    assert next_change(utc(2026, 1, 9, 22, 0)) == (utc(2026, 1, 11, 23, 0), GlobexChange.OPEN)


def test_a_week_has_five_closes_and_five_opens() -> None:
    """Sunday noon to the next Sunday noon: opens Sun-Thu, closes Mon-Fri, alternating."""
    start = utc(2026, 3, 1, 18, 0)
    changes = changes_between(start, start + timedelta(days=7))
    kinds = [kind for _, kind in changes]
    assert kinds == [GlobexChange.OPEN, GlobexChange.CLOSE] * 5
    assert all(is_open(at) is (kind is GlobexChange.OPEN) for at, kind in changes)


def test_the_switch_to_daylight_time_moves_the_hours_in_utc() -> None:
    """2026-03-08 (DST starts): Friday's close is 22:00 UTC, Sunday's open 22:00 UTC."""
    changes = changes_between(utc(2026, 3, 6, 12, 0), utc(2026, 3, 9, 21, 30))
    assert changes == [
        (utc(2026, 3, 6, 22, 0), GlobexChange.CLOSE),
        (utc(2026, 3, 8, 22, 0), GlobexChange.OPEN),
        (utc(2026, 3, 9, 21, 0), GlobexChange.CLOSE),
    ]
