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
from brokers.sim.faults import FaultError
from brokers.sim.tradovate.changes import EntityChange, EntityType, EventType
from brokers.sim.tradovate.entities import EntityStore
from brokers.sim.tradovate.faults import RestFaults
from brokers.sim.tradovate.limits import Penalties, RequestLimits
from brokers.sim.tradovate.sockets import SocketKind, SocketRegistry
from brokers.sim.tradovate.strategies import Strategies
from brokers.sim.tradovate.stream_faults import StreamFaults
from brokers.sim.tradovate.sync import snapshot
from brokers.sim.tradovate.tokens import TokenBook, TokenKind
from brokers.sim.tradovate.wire import cash_balance_json

__all__ = ["EntityChange", "EntityType", "EventType", "TradovateFront"]

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime

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
        # An account has its cash balance from the start: the sync snapshot lists it and the
        # first fill updates it (a client keyed on the snapshot's ids must find it there).
        self.entities.cash_changed(cash_balance_json(self))
        self.entities.take_changes()
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
            ws_client_timeout=ws_client_timeout,
        )

    def list_contracts(self, trading_date: date, now: datetime) -> list[FuturesContract]:
        """List the contracts trading on ``trading_date`` that are not listed yet (a new
        maturity after an expiry), each a few ticks from the maturity before it; contracts
        expired by then stop trading (their orders end, their positions settle). Returns
        the newly listed."""
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
                settled = self.core.delist(symbol, now)
                if settled is not None:
                    # No fill settles it: the position and the money change on their own.
                    self.entities.position_entity(symbol, Decimal(0), None, now)
                    self.entities.cash_changed(cash_balance_json(self))
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
