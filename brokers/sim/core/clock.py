"""The venue's wall clock, carried forward by trio's clock and moved on by request.

Venue time is the start time plus the trio time elapsed since, plus every shift an operator
asked for (``POST /_sim/clock``). Reading trio's clock rather than the system's means a test
under ``autojump_clock`` crosses the session close as fast as it likes; shifting it lets a
test or an operator jump there at once. It never goes backwards.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import trio

ZERO = timedelta(0)


@attrs.define
class VenueClock:
    _start: datetime
    _start_trio: float
    _shift: timedelta = ZERO
    # Set (and replaced) on every shift, so sleepers wake and look again.
    _shifted: trio.Event = attrs.field(factory=trio.Event)

    @classmethod
    def starting_at(cls, start: datetime) -> VenueClock:
        """A clock reading ``start`` now (call from within trio)."""
        if start.tzinfo is None:
            raise ValueError("the venue's start time must be timezone-aware")
        return cls(start.astimezone(UTC), trio.current_time())

    def __call__(self) -> datetime:
        elapsed = timedelta(seconds=trio.current_time() - self._start_trio)
        return self._start + elapsed + self._shift

    def advance(self, by: timedelta) -> datetime:
        """Move venue time on by ``by``; returns the new time."""
        if by < ZERO:
            raise ValueError("the venue's clock never goes back")
        self._shift += by
        self._shifted.set()
        self._shifted = trio.Event()
        return self()

    def move_to(self, when: datetime) -> datetime:
        """Move venue time on to ``when`` (not before now)."""
        if when.tzinfo is None:
            raise ValueError("the time must be timezone-aware")
        return self.advance(when - self())

    async def sleep_until(self, when: datetime) -> None:
        """Return once venue time has reached ``when``, however it got there."""
        while (left := (when - self()).total_seconds()) > 0:
            with trio.move_on_after(left):
                await self._shifted.wait()
