"""Daily loss: start-of-day equity taken at each trading-day boundary, and the latch a
breach sets. Pure: the wall-clock time and the venue's clock are always passed in.

Incident 000: the start-of-day equity was never reset, so yesterday's loss blocked today.
Here every observation names its trading day, so every boundary resets it. The trading day
comes from the venue's market clock (equities: each close ends one) or from a configured
session boundary (futures: 17:00 America/Chicago).

A restart must not reset the count: the day's start equity and the latch are journaled and
restored, and a daemon that missed the boundary (started mid-day) takes the venue's
``last_equity``, the equity at the previous close, rather than the equity it finds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from actors.records import RiskStateRecorded
    from actors.risk.limits import LatchMode, RiskLimits
    from brokers.base import MarketClock


def trading_day(wall: datetime, limits: RiskLimits) -> date:
    """The session-boundary trading day ``wall`` belongs to, local time."""
    local = wall.astimezone(limits.zone())
    if local.time() < limits.boundary_time():
        return local.date() - timedelta(days=1)
    return local.date()


def next_boundary(wall: datetime, limits: RiskLimits) -> datetime:
    """The first session boundary after ``wall``, in UTC."""
    zone = limits.zone()
    day = trading_day(wall, limits) + timedelta(days=1)
    local = datetime.combine(day, limits.boundary_time(), tzinfo=zone)
    return local.astimezone(UTC)


def venue_trading_day(clock: MarketClock, wall: datetime, limits: RiskLimits) -> date | None:
    """The trading day that ends at the clock's next close (its date in the session's zone);
    None once ``wall`` has passed that close: the clock must be read again."""
    if wall >= clock.next_close:
        return None
    return clock.next_close.astimezone(limits.zone()).date()


_LATCHES: dict[str, LatchMode] = {"reducing": "reducing", "halted": "halted"}


@attrs.frozen
class DailyState:
    """What must outlive a restart."""

    day: date | None
    start_equity: Decimal | None
    latched: LatchMode | None

    @classmethod
    def from_record(cls, record: RiskStateRecorded) -> DailyState:
        latched = _LATCHES.get(record.latched or "")
        return cls(record.trading_day, record.start_equity, latched)


@attrs.define
class DailyLoss:
    limits: RiskLimits
    day: date | None = None
    start_equity: Decimal | None = None
    latched: LatchMode | None = None
    # The venue's market clock, for ``trading_day = "venue"``.
    clock: MarketClock | None = None
    # Set by the first observation of this process: until then a new day was not seen
    # begin, so its start is the venue's previous close.
    _observed: bool = False

    @property
    def state(self) -> DailyState:
        return DailyState(self.day, self.start_equity, self.latched)

    def trading_day(self, wall: datetime) -> date | None:
        """The trading day ``wall`` belongs to; None when the venue's clock is needed."""
        if self.limits.trading_day == "session":
            return trading_day(wall, self.limits)
        if self.clock is None:
            return None
        return venue_trading_day(self.clock, wall, self.limits)

    def needs_clock(self, wall: datetime) -> bool:
        return self.limits.trading_day == "venue" and self.trading_day(wall) is None

    def restore(self, state: DailyState) -> None:
        self.day, self.start_equity, self.latched = state.day, state.start_equity, state.latched

    def observe(
        self, equity: Decimal, day: date, last_equity: Decimal | None = None
    ) -> LatchMode | None:
        """Feed the latest equity on trading day ``day``; returns the latch mode if this
        observation sets it."""
        if day != self.day:
            start = equity
            if not self._observed and last_equity is not None and last_equity > 0:
                start = last_equity
            self.day, self.start_equity = day, start
        self._observed = True
        limit = self.limits.daily_loss_limit
        if limit is None or self.start_equity is None or self.start_equity <= 0:
            return None
        if self.start_equity - equity < limit * self.start_equity:
            return None
        if self.latched == "halted" or self.latched == self.limits.loss_latch:
            return None
        self.latched = self.limits.loss_latch
        return self.latched

    def loss(self, equity: Decimal) -> Decimal:
        return (self.start_equity - equity) if self.start_equity is not None else Decimal(0)

    def resume(self, equity: Decimal | None) -> None:
        """Lift the latch; the loss is counted afresh from here, or it would re-latch at once."""
        self.latched = None
        if equity is not None:
            self.start_equity = equity
