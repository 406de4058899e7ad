"""What an Alpaca answer says about the request budget, as its corrections. Pure.

Every answer carries ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` (Unix seconds, whole:
the window may end up to a second after it): never more than ``remaining`` calls before
then. A 429 means the venue counted more than the budget did (another process on the same
key, a restart inside the window): nothing non-urgent goes until its ``Retry-After``, or,
without one, until the window resets.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from brokers.alpaca.failures import retry_after
from brokers.budget import Pause, Remaining

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brokers.budget import Correction

# Alpaca's window is one minute: a reset further off than that is a clock that differs from
# ours (the venue's, or a paper venue's running on a test clock), not a longer wait.
WINDOW = 60.0
# A 429 with no hint at all: a short quiet, then the budget's own count again.
UNHINTED_PAUSE = 1.0
TOO_MANY_REQUESTS = 429


def corrections(status: int, headers: Mapping[str, str], now: datetime) -> list[Correction]:
    """The corrections an answer of ``status`` with ``headers`` makes, at wall time ``now``.

    The reset is counted from the answer's ``Date`` when it has one: the venue's clock, the
    one its reset is on, whatever ours says (whole seconds too, floored: the wait it gives is
    a second long at worst)."""
    said: list[Correction] = []
    remaining = _number(headers.get("x-ratelimit-remaining"))
    reset = _number(headers.get("x-ratelimit-reset"))
    if remaining is not None and reset is not None:
        venue_now = _date(headers.get("date")) or now
        within = min(WINDOW, max(0.0, reset + 1 - venue_now.timestamp()))
        said.append(Remaining(max(0, int(remaining)), within))
    if headers.get("retry-after"):
        wait = retry_after(headers, now)
        if wait is not None:
            said.append(Pause(min(wait, 3600.0)))
    elif status == TOO_MANY_REQUESTS and not said:
        said.append(Pause(UNHINTED_PAUSE))
    return said


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
