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
from brokers.sim.core.contracts import (
    FuturesContract,
    is_on_tick,
    listed_contracts,
    on_tick,
    resolve_symbol,
    seeded_futures_prices,
)
from brokers.sim.core.globex import trading_date as globex_trading_date
from brokers.sim.core.matching import MatchingCore

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

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
        start_prices: Mapping[str, Decimal] | None = None,
    ) -> TradovateFront:
        """The front's account with the contracts listed on the venue's first trading date;
        ``start_prices`` (by contract name, on the tick grid) override the seeded ones."""
        first_date = globex_trading_date(clock())
        contracts = listed_contracts(first_date)
        prices = seeded_futures_prices(seed, contracts)
        for name, price in (start_prices or {}).items():
            contract = resolve_symbol(name, first_date)
            if contract is None or contract.name not in prices:
                raise ValueError(f"{name} is not a listed contract")
            if not is_on_tick(price, contract.product.tick_size):
                raise ValueError(f"price {price} of {name} is not on its tick grid")
            prices[contract.name] = price
        assets = [contract_asset(c) for c in contracts]
        instruments = [c.instrument() for c in contracts]
        core = MatchingCore.create(assets, prices, cash, instruments=instruments)
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

    def publish_events(self) -> None:
        """Drain the core's events. Replaced at merge by the entity store's version, which
        turns them into entities and ``changes``; until then they are discarded."""
        self.core.take_events()

    def list_contracts(self, trading_date: date) -> list[FuturesContract]:
        """List the contracts trading on ``trading_date`` that are not listed yet (a new
        maturity after an expiry), each a few ticks from the maturity before it; contracts
        expired by then stop trading. Returns the newly listed."""
        listed = {asset.symbol for asset in self.core.assets()}
        prices = self.core.prices()
        added: list[FuturesContract] = []
        for contract in listed_contracts(trading_date):
            if contract.name in listed:
                continue
            before = prices.get(contract.previous().name)
            tick = contract.product.tick_size
            level = before + 20 * tick if before is not None else contract.product.reference_price
            self.core.list_asset(
                contract_asset(contract), on_tick(level, tick), contract.instrument()
            )
            added.append(contract)
        # The listing window only moves forward: what left it has expired.
        trading = {contract.name for contract in listed_contracts(trading_date)}
        for symbol in listed - trading:
            asset = self.core.asset(symbol)
            if asset is not None and asset.tradable:
                self.core.delist(symbol)
        return added


def contract_asset(contract: FuturesContract) -> SimAsset:
    """A contract as the core lists it: whole contracts, on its tick grid."""
    return SimAsset(
        symbol=contract.name,
        name=contract.product.description,
        exchange="CME",
        shortable=True,
        fractionable=False,
        min_order_size=Decimal(1),
        min_trade_increment=Decimal(1),
        price_increment=contract.product.tick_size,
    )
