"""Counting what a venue saw: the most arrivals within any window of a given length."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def busiest(arrivals: Iterable[float], seconds: float) -> int:
    """The most arrivals within any half-open interval of ``seconds``."""
    times = sorted(arrivals)
    most, start = 0, 0
    for end, at in enumerate(times):
        while times[start] + seconds <= at:
            start += 1
        most = max(most, end - start + 1)
    return most


def busiest_minute(arrivals: Iterable[str]) -> int:
    """The most requests within any 60 s, from the paper venue's ISO arrival times."""
    return busiest((datetime.fromisoformat(at).timestamp() for at in arrivals), 60.0)
