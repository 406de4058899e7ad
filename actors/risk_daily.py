"""Daily loss: start-of-day equity taken at each trading-day boundary, and the latch a
breach sets. Pure: the wall-clock time is always passed in.

Incident 000: the start-of-day equity was never reset, so yesterday's loss blocked today.
Here the trading day is a function of the time alone, so every boundary resets it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs

from actors.risk_limits import LatchMode, RiskLimits


def trading_day(wall: datetime, limits: RiskLimits) -> date:
    """The trading day ``wall`` belongs to: it starts at the session boundary, local time."""
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


@attrs.define
class DailyLoss:
    limits: RiskLimits
    day: date | None = None
    start_equity: Decimal | None = None
    latched: LatchMode | None = None

    def observe(self, equity: Decimal, wall: datetime) -> LatchMode | None:
        """Feed the latest equity; returns the latch mode if this observation sets it."""
        today = trading_day(wall, self.limits)
        if today != self.day:
            self.day, self.start_equity = today, equity
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
