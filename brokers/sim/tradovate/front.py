"""The paper venue's Tradovate front end: one futures account and what its fronts share.

The account has its own matching core (futures contracts only), separate from the Alpaca
front's. The REST app (``rest``), the user websocket (``websocket``) and the market-data
websocket (``marketdata``) all read and change this one object, in the venue's single
trio thread.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from brokers.sim.broadcast import Broadcast
from brokers.sim.core.assets import SimAsset
from brokers.sim.core.contracts import listed_contracts, seeded_futures_prices
from brokers.sim.core.matching import MatchingCore
from brokers.sim.faults import FaultError
from brokers.sim.tradovate.changes import EntityChange, EntityType, EventType
from brokers.sim.tradovate.entities import EntityStore
from brokers.sim.tradovate.faults import RestFaults
from brokers.sim.tradovate.limits import Penalties, RequestLimits
from brokers.sim.tradovate.sockets import SocketKind, SocketRegistry
from brokers.sim.tradovate.stream_faults import StreamFaults
from brokers.sim.tradovate.strategies import Strategies
from brokers.sim.tradovate.sync import snapshot
from brokers.sim.tradovate.tokens import TokenBook, TokenKind
from brokers.sim.tradovate.wire import cash_balance_json

__all__ = ["EntityChange", "EntityType", "EventType", "TradovateFront"]

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from brokers.sim.core.clock import VenueClock
    from brokers.sim.core.tape import MarketItem


@attrs.define
class TradovateFront:
    """The Tradovate account of the venue and the channels its sockets listen on."""

    core: MatchingCore
    clock: VenueClock
    account_id: int
    account_name: str
    user_id: int
    user_name: str
    # The credentials the front accepts (``accesstokenrequest``'s name and password);
    # None: any non-empty pair, as the Alpaca front accepts any keys unless configured.
    username: str | None = None
    password: str | None = None
    # Entity changes in the order they happened, for the user websockets.
    changes: Broadcast[list[EntityChange]] = attrs.field(factory=Broadcast)
    # Prices of the futures contracts, for the market-data websockets.
    market_data: Broadcast[list[MarketItem]] = attrs.field(factory=Broadcast)
    # Tokens that stopped working before their expiry (a third login closed their
    # session, or revoke_tokens): the websockets drop what these authorized.
    revoked_tokens: Broadcast[list[str]] = attrs.field(factory=Broadcast)
    created_at: datetime = attrs.field(init=False)
    tokens: TokenBook = attrs.field(factory=TokenBook)
    limits: RequestLimits = attrs.field(factory=RequestLimits)
    penalties: Penalties = attrs.field(factory=Penalties)
    strategies: Strategies = attrs.field(factory=Strategies)
    entities: EntityStore = attrs.field(init=False)
    rest_faults: RestFaults = attrs.field(init=False)
    # A socket the client sends nothing on (not even ``[]``) for this long is dropped.
    ws_client_timeout: float = 30.0
    # The open websockets, so faults and ended sessions can close them.
    sockets: SocketRegistry = attrs.field(factory=SocketRegistry)
    stream_faults: StreamFaults = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.created_at = self.clock()
        self.entities = EntityStore(self.account_id, self.user_id)
        self.rest_faults = RestFaults(self.tokens, self.clock)
        self.stream_faults = StreamFaults(self.sockets.end_all, self._stall)

    def _stall(self, kind: SocketKind, seconds: float) -> None:
        hub = self.changes if kind is SocketKind.USER else self.market_data
        hub.stall(seconds)

    def access_user(self, token: str) -> int | None:
        """The user id of a valid, unexpired, unrevoked access token, else None."""
        return self.tokens.user_of(token, self.clock())

    def md_access_user(self, token: str) -> int | None:
        """The user id of a valid, unexpired, unrevoked ``mdAccessToken``, else None."""
        return self.tokens.user_of(token, self.clock(), TokenKind.MARKET_DATA)

    def publish_events(self) -> None:
        """Drain the core's events into the entity store and publish the entity changes
        (one list per venue command) on ``changes``."""
        now = self.clock()
        touched = self.entities.apply(self.core.take_events(), self.core.order, now)
        for symbol in sorted(touched):
            qty = next((p for p in self.core.positions() if p.symbol == symbol), None)
            self.entities.position_entity(
                symbol,
                qty.qty if qty is not None else Decimal(0),
                qty.avg_entry_price if qty is not None else None,
                now,
            )
        if touched:
            self.entities.cash_changed(cash_balance_json(self))
        # Brackets of strategies whose entry just filled go out within the same command.
        self.strategies.arm(self)
        touched = self.entities.apply(self.core.take_events(), self.core.order, now)
        changes = self.entities.take_changes()
        if changes:
            self.changes.publish(changes)
        self.publish_revoked()

    def publish_revoked(self) -> None:
        """Close the sockets of tokens whose session ended (a newer login closed it, or it
        was revoked), and tell whoever listens on ``revoked_tokens``."""
        revoked = self.tokens.take_revoked()
        for token in revoked:
            self.end_token_sessions(token)
        if revoked:
            self.revoked_tokens.publish(revoked)

    def end_token_sessions(self, token: str) -> None:
        """The session of ``token`` is over: close the sockets authorized with it."""
        self.sockets.end_token(token)

    def sync_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """The SyncMessage lists by their Tradovate names."""
        return snapshot(self)

    def apply_fault(self, spec: Mapping[str, Any]) -> None:
        """Arm a Tradovate fault (``{"front": "tradovate", "fault": NAME, ...}``); raises
        FaultError for one no part of the front knows. Every part sees ``clear``."""
        known = [faults.configure(spec) for faults in (self.rest_faults, self.stream_faults)]
        # A revocation ends sessions: their sockets close now.
        self.publish_revoked()
        if not any(known):
            raise FaultError(f"invalid fault request: unknown fault {spec.get('fault')!r}")

    @classmethod
    def create(
        cls,
        seed: int,
        cash: Decimal,
        clock: VenueClock,
        *,
        username: str | None = None,
        password: str | None = None,
        ws_client_timeout: float = 30.0,
    ) -> TradovateFront:
        """The front's account with the contracts listed on the venue's first day."""
        contracts = listed_contracts(clock().date())
        prices = seeded_futures_prices(seed, contracts)
        assets = [
            SimAsset(
                symbol=c.name,
                name=c.product.description,
                exchange="CME",
                shortable=True,
                fractionable=False,
                min_order_size=Decimal(1),
                min_trade_increment=Decimal(1),
                price_increment=c.product.tick_size,
            )
            for c in contracts
        ]
        core = MatchingCore.create(assets, prices, cash)
        # Tradovate's ids are integers; fixed by the seed like everything else.
        rng = random.Random(f"tradovate-{seed}")
        user_id = rng.randint(100_000, 999_999)
        account_id = rng.randint(1_000_000, 9_999_999)
        return cls(
            core,
            clock,
            account_id,
            f"DEMO{account_id}",
            user_id,
            username or "demo-user",
            username=username,
            password=password,
            ws_client_timeout=ws_client_timeout,
        )
