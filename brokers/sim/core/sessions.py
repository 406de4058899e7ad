"""The venue's trading sessions: when each opens and closes (pure).

The venue matches orders around the clock, but its days still end: every day has a regular
session from 14:30 to 21:00 UTC (09:30-16:00 in New York, daylight saving time ignored). At
each close its ``day`` orders expire; with the ``done_for_day`` option its working ``gtc``
orders rest until the next open.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import Enum

SESSION_OPEN = time(14, 30, tzinfo=UTC)
SESSION_CLOSE = time(21, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class SessionChange(Enum):
    OPEN = "open"
    CLOSE = "close"


def next_at(moment: datetime, of_day: time) -> datetime:
    """The first time of day ``of_day`` strictly after ``moment``."""
    day = moment.astimezone(UTC).date()
    candidate = datetime.combine(day, of_day)
    if candidate <= moment:
        candidate += timedelta(days=1)
    return candidate


def next_change(after: datetime) -> datetime:
    """When the next session open or close comes, strictly after ``after``."""
    return min(next_at(after, SESSION_OPEN), next_at(after, SESSION_CLOSE))


def changes_between(start: datetime, end: datetime) -> list[tuple[datetime, SessionChange]]:
    """Every open and close in (start, end], oldest first."""
    changes: list[tuple[datetime, SessionChange]] = []
    moment = start
    while (at := next_change(moment)) <= end:
        kind = SessionChange.OPEN if at.timetz() == SESSION_OPEN else SessionChange.CLOSE
        changes.append((at, kind))
        moment = at
    return changes


def minute_start(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
