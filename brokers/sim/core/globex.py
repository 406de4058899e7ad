"""CME Globex trading hours for the equity-index futures (pure).

The market is open Sunday to Friday from 17:00 to 16:00 America/Chicago, with a daily
break from 16:00 to 17:00, and closed from Friday 16:00 to Sunday 17:00. A trading day
begins at 17:00 Chicago and carries the next weekday's date: the session that opens on
Sunday at 17:00 is Monday's. Chicago's daylight saving time is real here (the hours are
Chicago's, so they move in UTC). Exchange holidays are not modelled.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
OPEN_AT = time(17, 0)
CLOSE_AT = time(16, 0)
_SATURDAY, _SUNDAY, _FRIDAY = 5, 6, 4


class GlobexChange(enum.Enum):
    OPEN = "open"  # a trading day begins
    CLOSE = "close"  # the daily break (or the weekend) begins


def is_open(moment: datetime) -> bool:
    """Whether Globex trades at ``moment`` (timezone-aware)."""
    local = moment.astimezone(CHICAGO)
    weekday, clock = local.weekday(), local.time()
    if weekday == _SATURDAY:
        return False
    if weekday == _SUNDAY:
        return clock >= OPEN_AT
    if weekday == _FRIDAY:
        return clock < CLOSE_AT
    return clock < CLOSE_AT or clock >= OPEN_AT


def trading_date(moment: datetime) -> date:
    """The trading date at ``moment``: from 17:00 Chicago the next day's, and a weekend's
    (or a Friday evening's) Monday's."""
    local = moment.astimezone(CHICAGO)
    day = local.date()
    if local.time() >= OPEN_AT:
        day += timedelta(days=1)
    while day.weekday() in (_SATURDAY, _SUNDAY):
        day += timedelta(days=1)
    return day


def _at(day: date, of_day: time) -> datetime:
    # 16:00 and 17:00 are never skipped or repeated by Chicago's switches (at 02:00).
    return datetime.combine(day, of_day, tzinfo=CHICAGO).astimezone(UTC)


def next_change(after: datetime) -> tuple[datetime, GlobexChange]:
    """The first open or close strictly after ``after``."""
    day = after.astimezone(CHICAGO).date()
    for offset in range(9):
        current = day + timedelta(days=offset)
        weekday = current.weekday()
        if weekday < _SATURDAY and (close := _at(current, CLOSE_AT)) > after:
            return close, GlobexChange.CLOSE
        if weekday not in (_FRIDAY, _SATURDAY) and (opens := _at(current, OPEN_AT)) > after:
            return opens, GlobexChange.OPEN
    raise AssertionError("Globex changes at least once a week")  # pragma: no cover


def changes_between(start: datetime, end: datetime) -> list[tuple[datetime, GlobexChange]]:
    """Every open and close in (start, end], oldest first."""
    changes: list[tuple[datetime, GlobexChange]] = []
    moment = start
    while (change := next_change(moment))[0] <= end:
        changes.append(change)
        moment = change[0]
    return changes
