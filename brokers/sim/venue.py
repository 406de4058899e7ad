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

import attrs
import msgspec

from brokers.base import utc_now
from brokers.sim.assets import build_universe
from brokers.sim.broadcast import Broadcast
from brokers.sim.config import SimConfig
from brokers.sim.core import MatchingCore
from brokers.sim.faults import FaultPlan
from brokers.sim.marketdata import PricePrint
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

    @classmethod
    def from_config(cls, config: SimConfig, clock: Callable[[], datetime] = utc_now) -> SimVenue:
        assets, prices = build_universe(config.seed, config.prices)
        custom = {asset.symbol: asset for asset in config.assets}
        listed = [custom.pop(a.symbol, a) for a in assets] + list(custom.values())
        # The account id is fixed by the seed, like the prices.
        account_id = str(uuid.UUID(int=random.Random(config.seed).getrandbits(128), version=4))
        now = clock()
        core = MatchingCore.create(listed, prices, config.cash)
        venue = cls(core, account_id, now, config.cash, config.key_id, config.secret_key, clock)
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
        for event in self.core.take_events():
            frame = msgspec.json.encode(event_json(event))
            for _ in range(copies):
                self.trade_updates.publish(frame)

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
