"""A symbol's volatility, estimated from the price feed's trades as they arrive.

The price is sampled once per ``SAMPLE_SECONDS`` (the first trade of each interval), and an
exponentially weighted average of the squared returns between samples is kept (RiskMetrics'
0.94 decay). The estimate is refreshed at each sample, never per decision, so sizing reads a
cached number and nothing ever fetches bars. Pure: the time is passed in.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

SAMPLE_SECONDS = 60.0
DECAY = Decimal("0.94")
# Fewer returns than this say too little: no estimate yet.
MIN_SAMPLES = 10


@attrs.define
class VolatilityEstimate:
    """One symbol's running estimate (standard deviation of one-interval returns)."""

    _bucket: int
    _price: Decimal
    _variance: Decimal = Decimal(0)
    _samples: int = 0
    _stdev: Decimal | None = None

    @classmethod
    def first(cls, price: Decimal, now: float) -> VolatilityEstimate:
        return cls(int(now // SAMPLE_SECONDS), price)

    def observe(self, price: Decimal, now: float) -> None:
        """Feed a trade; only the first one of a new interval is a sample."""
        bucket = int(now // SAMPLE_SECONDS)
        if bucket <= self._bucket or self._price <= 0 or price <= 0:
            if bucket > self._bucket:
                self._bucket, self._price = bucket, price
            return
        gap = bucket - self._bucket
        change = price / self._price - 1
        # A return over several quiet intervals holds that many intervals' variance.
        per_interval = change * change / gap
        self._variance = DECAY * self._variance + (1 - DECAY) * per_interval
        self._samples += 1
        self._bucket, self._price = bucket, price
        if self._samples >= MIN_SAMPLES:
            self._stdev = self._variance.sqrt()

    @property
    def stdev(self) -> Decimal | None:
        """None until enough samples have been seen."""
        return self._stdev
