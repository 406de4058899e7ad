"""The venue's shared state: the matching core plus its faults, fronts and clock.

REST handlers and websocket connections all run in one trio thread and call the core
without awaiting in between, so each command and the publishing of its events is atomic.
"""

from __future__ import annotations

import hmac
import itertools
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import msgspec

from brokers.base import utc_now
from brokers.sim.assets import build_universe
from brokers.sim.broadcast import Broadcast
from brokers.sim.config import SimConfig
from brokers.sim.core import MatchingCore
from brokers.sim.faults import FaultPlan, Immediate
from brokers.sim.marketdata import PricePrint
from brokers.sim.orders import SimEvent
from brokers.sim.ratelimit import RateLimit
from brokers.sim.wire import event_json


@attrs.define
class SimVenue:
    core: MatchingCore
    account_id: str
    created_at: datetime
    starting_cash: Decimal
    _key_id: str | None = None
    _secret_key: str | None = None
    clock: Callable[[], datetime] = utc_now
    faults: FaultPlan = attrs.field(factory=FaultPlan)
    trade_updates: Broadcast[bytes] = attrs.field(factory=Broadcast)
    market_data: Broadcast[list[PricePrint]] = attrs.field(factory=Broadcast)
    _trade_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _last_prints: dict[str, PricePrint] = attrs.field(factory=dict)
    rate_limit: RateLimit | None = None

    @classmethod
    def from_config(cls, config: SimConfig, clock: Callable[[], datetime] = utc_now) -> SimVenue:
        assets, prices = build_universe(config.seed, config.prices)
        custom = {asset.symbol: asset for asset in config.assets}
        listed = [custom.pop(a.symbol, a) for a in assets] + list(custom.values())
        # The account id is fixed by the seed, like the prices.
        account_id = str(uuid.UUID(int=random.Random(config.seed).getrandbits(128), version=4))
        now = clock()
        core = MatchingCore.create(listed, prices, config.cash, fill_size=config.fill_size)
        venue = cls(core, account_id, now, config.cash, config.key_id, config.secret_key, clock)
        if config.rate_limit_per_minute is not None:
            venue.rate_limit = RateLimit(config.rate_limit_per_minute)
        venue._print(core.prices(), now)
        return venue

    def authorize(self, key_id: str, secret_key: str) -> bool:
        """Credentials check: exact match when configured, else any non-empty pair."""
        if not key_id or not secret_key:
            return False
        if self._key_id is None or self._secret_key is None:
            return True
        return hmac.compare_digest(key_id, self._key_id) and hmac.compare_digest(
            secret_key, self._secret_key
        )

    def publish_events(self) -> None:
        """Send the core's new events to every listening ``trade_updates`` connection."""
        copies = 2 if self.faults.duplicate_events else 1
        events = self.core.take_events()
        if self.faults.miss_bracket_cancel:
            events = [e for e in events if not e.sibling_cancel]
        events = [
            e
            for e in events
            if e.event not in ("fill", "partial_fill") or not self.faults.take_dropped_fill()
        ]
        if self.faults.reorder_events:
            events = fills_first(events)
        for event in events:
            frame = msgspec.json.encode(event_json(event))
            for _ in range(copies):
                self.trade_updates.publish(frame)

    def apply_fault(self, spec: Mapping[str, Any]) -> None:
        """Arm a fault (``{"fault": NAME, ...}``), or do it now; raises FaultError."""
        match self.faults.configure(spec):
            case Immediate.DROP_STREAM:
                self.trade_updates.drop_all()
            case Immediate.STALL_STREAM:
                self.trade_updates.stall(self.faults.stall_seconds)
            case Immediate.NOTHING if spec.get("fault") == "clear":
                self.trade_updates.stall(0)
            case Immediate.NOTHING:
                pass

    def set_prices(self, prices: Mapping[str, Decimal]) -> None:
        """Move prices (resting orders may fill) and print them on the market-data stream."""
        now = self.clock()
        try:
            self.core.set_prices(prices, now)
        finally:
            self.publish_events()
        self._print(prices, now)

    def current_prints(self) -> list[PricePrint]:
        return list(self._last_prints.values())

    def reprint(self) -> None:
        """Print every current price again, as a fresh trade."""
        self._print(self.core.prices(), self.clock())

    def _print(self, prices: Mapping[str, Decimal], now: datetime) -> None:
        prints = [PricePrint(next(self._trade_ids), s, p, now) for s, p in prices.items()]
        self._last_prints.update((p.symbol, p) for p in prints)
        self.market_data.publish(prints)


def fills_first(events: list[SimEvent]) -> list[SimEvent]:
    """The batch with each order's fills moved ahead of its ``new`` (reorder_events)."""
    ordered = list(events)
    for event in events:
        if event.event not in ("fill", "partial_fill"):
            continue
        current = ordered.index(event)
        first = next(
            (i for i, e in enumerate(ordered) if e.event == "new" and e.order.id == event.order.id),
            None,
        )
        if first is not None and first < current:
            ordered.insert(first, ordered.pop(current))
    return ordered
