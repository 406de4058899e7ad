"""The paper venue's Tradovate front end: one futures account and what its fronts share.

The account has its own matching core (futures contracts only), separate from the Alpaca
front's. The REST app (``rest``), the user websocket (``websocket``) and the market-data
websocket (``marketdata``) all read and change this one object, in the venue's single
trio thread.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from brokers.sim.broadcast import Broadcast
from brokers.sim.core.assets import SimAsset
from brokers.sim.core.contracts import listed_contracts, seeded_futures_prices
from brokers.sim.core.matching import MatchingCore

if TYPE_CHECKING:
    from brokers.sim.core.clock import VenueClock
    from brokers.sim.core.tape import MarketItem

# The entity types the user websocket pushes, as Tradovate spells them (camelCase singular).
EntityType = Literal[
    "account",
    "cashBalance",
    "command",
    "commandReport",
    "contract",
    "executionReport",
    "fill",
    "order",
    "orderStrategy",
    "orderStrategyLink",
    "orderVersion",
    "position",
]
EventType = Literal["Created", "Updated", "Deleted"]


@attrs.frozen
class EntityChange:
    """One ``props`` event: an entity as it stands after the change, in Tradovate's JSON."""

    entity_type: EntityType
    event_type: EventType
    entity: dict[str, Any]


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

    @classmethod
    def create(
        cls,
        seed: int,
        cash: Decimal,
        clock: VenueClock,
        *,
        username: str | None = None,
        password: str | None = None,
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
        )
