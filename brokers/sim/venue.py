"""The venue's shared state: the matching core plus its faults, fronts and clock.

REST handlers and websocket connections all run in one trio thread and call the core
without awaiting in between, so each command and the publishing of its events is atomic.
Whoever touches the venue first lets it catch up with its clock (``catch_up``): the session
opens and closes and the minute bars that venue time has passed, so a request never sees an
order that should have expired.
"""

from __future__ import annotations

import hmac
import itertools
import random
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

import attrs
import msgspec

from brokers.base import utc_now
from brokers.sim.alpaca.events import fills_first, with_pending_states
from brokers.sim.alpaca.ratelimit import RateDecision, RateLimit
from brokers.sim.alpaca.wire import event_json
from brokers.sim.broadcast import Broadcast
from brokers.sim.core.assets import build_universe
from brokers.sim.core.clock import VenueClock
from brokers.sim.core.matching import MatchingCore
from brokers.sim.core.sessions import (
    MINUTE,
    SessionChange,
    changes_between,
    minute_start,
    next_change,
)
from brokers.sim.core.tape import BarBuilder, MarketItem, PricePrint
from brokers.sim.faults import FaultPlan, Immediate
from brokers.sim.futures import FuturesSide
from brokers.sim.tradovate.front import TradovateFront

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from decimal import Decimal

    from brokers.sim.config import SimConfig


ARRIVALS_KEPT = 20_000


@attrs.define
class SimVenue:
    core: MatchingCore
    account_id: str
    created_at: datetime
    starting_cash: Decimal
    clock: VenueClock
    # The Tradovate front's own futures account, and its hours and prices.
    tradovate: TradovateFront
    futures: FuturesSide
    _key_id: str | None = None
    _secret_key: str | None = None
    faults: FaultPlan = attrs.field(factory=FaultPlan)
    trade_updates: Broadcast[bytes] = attrs.field(factory=Broadcast)
    market_data: Broadcast[list[MarketItem]] = attrs.field(factory=Broadcast)
    _trade_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _last_prints: dict[str, PricePrint] = attrs.field(factory=dict)
    _bars: BarBuilder = attrs.field(factory=BarBuilder)
    # Venue time up to which session opens and closes have been applied.
    _sessions_until: datetime | None = None
    # Alpaca counts its limit per API key: one window for each key that has called.
    rate_limit_per_minute: int | None = None
    _rate_limits: dict[str, RateLimit] = attrs.field(factory=dict)
    # The latest /v2 requests as they arrived (venue time), and how many the limit answered
    # 429: what a test or a benchmark reads of the load the venue saw. Bounded: the embedded
    # venue may run for months.
    arrivals: deque[datetime] = attrs.field(factory=lambda: deque(maxlen=ARRIVALS_KEPT))
    rate_limited: int = 0

    @classmethod
    def from_config(cls, config: SimConfig) -> SimVenue:
        """A venue as ``config`` says, its clock starting now (call from within trio)."""
        assets, prices = build_universe(config.seed, config.prices)
        custom = {asset.symbol: asset for asset in config.assets}
        listed = [custom.pop(a.symbol, a) for a in assets] + list(custom.values())
        # The account id is fixed by the seed, like the prices.
        account_id = str(uuid.UUID(int=random.Random(config.seed).getrandbits(128), version=4))
        clock = VenueClock.starting_at(config.start_time or utc_now())
        now = clock()
        core = MatchingCore.create(listed, prices, config.cash, fill_size=config.fill_size)
        tradovate = TradovateFront.create(
            config.seed,
            config.cash,
            clock,
            username=config.tradovate_username,
            password=config.tradovate_password,
            ws_client_timeout=config.ws_client_timeout,
            start_prices=config.futures_prices,
        )
        trade_ids = itertools.count(1)
        futures = FuturesSide.start(tradovate, now, trade_ids)
        venue = cls(
            core,
            account_id,
            now,
            config.cash,
            clock,
            tradovate,
            futures,
            config.key_id,
            config.secret_key,
            trade_ids=trade_ids,
        )
        venue._sessions_until = now
        venue.rate_limit_per_minute = config.rate_limit_per_minute
        venue._print(core.prices(), now)
        return venue

    def take_rate(self, key_id: str) -> RateDecision | None:
        """Count one request of ``key_id`` against its window (None: no limit configured)."""
        if self.rate_limit_per_minute is None:
            return None
        limit = self._rate_limits.get(key_id)
        if limit is None:
            limit = self._rate_limits[key_id] = RateLimit(self.rate_limit_per_minute)
        decision = limit.take(self.clock())
        if not decision.allowed:
            self.rate_limited += 1
        return decision

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
        events = with_pending_states(events, self.faults.pending_states, _execution_id)
        if self.faults.reorder_events:
            events = fills_first(events)
        for event in events:
            frame = msgspec.json.encode(event_json(event))
            for _ in range(copies):
                self.trade_updates.publish(frame)

    def apply_fault(self, spec: Mapping[str, Any]) -> None:
        """Arm a fault (``{"fault": NAME, ...}``), or do it now; raises FaultError.
        ``"front": "tradovate"`` sends it to the Tradovate front."""
        if spec.get("front") == "tradovate":
            return self.tradovate.apply_fault(spec)
        match self.faults.configure(spec):
            case Immediate.DROP_STREAM:
                self.trade_updates.drop_all()
            case Immediate.STALL_STREAM:
                self.trade_updates.stall(self.faults.stall_seconds)
            case Immediate.NOTHING if spec.get("fault") == "clear":
                self.trade_updates.stall(0)
            case Immediate.NOTHING:
                pass

    def catch_up(self) -> None:
        """Apply the session opens and closes venue time has passed (the equity sessions
        to the Alpaca front's core, Globex's to the Tradovate front's), and publish the bars
        of the minutes it has passed."""
        now = self.clock()
        self.futures.catch_up(now)
        since = self._sessions_until or now
        changes = changes_between(since, now)
        self._sessions_until = max(since, now)
        if changes:
            # Only then: another request's events wait for their own publishing moment.
            try:
                for at, change in changes:
                    if change is SessionChange.CLOSE:
                        self.core.close_session(at, done_for_day=self.faults.done_for_day)
                    else:
                        self.core.open_session(at)
            finally:
                self.publish_events()
        bars = self._bars.take_complete(now)
        if bars:
            self.market_data.publish(list(bars))

    def next_deadline(self) -> datetime:
        """When ``catch_up`` next has something to do: a minute boundary or a session change."""
        now = self.clock()
        return min(
            minute_start(now) + MINUTE,
            next_change(self._sessions_until or now),
            self.futures.next_deadline(),
        )

    def set_prices(self, prices: Mapping[str, Decimal]) -> None:
        """Move prices (resting orders may fill) and print them on the market-data streams:
        equity symbols on the Alpaca front's, contracts (``MNQZ6``, ``MNQ1!``) on the
        Tradovate front's. Every price is checked before any moves."""
        self.catch_up()
        now = self.clock()
        listed = {asset.symbol for asset in self.core.assets()}
        equities = {s: p for s, p in prices.items() if s in listed}
        contracts = {s: p for s, p in prices.items() if s not in listed}
        futures = self.futures.checked_prices(contracts) if contracts else {}
        if equities or not futures:
            try:
                self.core.set_prices(equities, now)
            finally:
                self.publish_events()
            self._print(equities, now)
        if futures:
            self.futures.set_prices(futures, now)

    def current_prints(self) -> list[PricePrint]:
        return list(self._last_prints.values())

    def reprint(self) -> None:
        """Print every current price again, as a fresh trade (contracts' too)."""
        now = self.clock()
        self._print(self.core.prices(), now)
        self.futures.reprint(now)

    def _print(self, prices: Mapping[str, Decimal], now: datetime) -> None:
        prints = [PricePrint(next(self._trade_ids), s, p, now) for s, p in prices.items()]
        self._last_prints.update((p.symbol, p) for p in prints)
        for trade in prints:
            self._bars.add(trade)
        self.market_data.publish(list[MarketItem](prints))


def _execution_id() -> str:
    return str(uuid.uuid4())
