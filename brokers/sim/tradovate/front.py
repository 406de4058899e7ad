"""The paper venue's Tradovate front end: one futures account and what its fronts share.

The account has its own matching core (futures contracts only), separate from the Alpaca
front's. The REST app (``rest``), the user websocket (``websocket``) and the market-data
websocket (``marketdata``) all read and change this one object, in the venue's single
trio thread.
"""

from __future__ import annotations

import random
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from brokers.sim.broadcast import Broadcast
from brokers.sim.core.assets import SimAsset
from brokers.sim.core.contracts import listed_contracts, seeded_futures_prices
from brokers.sim.core.matching import MatchingCore
from brokers.sim.faults import FaultError
from brokers.sim.tradovate.sockets import SocketKind, SocketRegistry
from brokers.sim.tradovate.stream_faults import StreamFaults

if TYPE_CHECKING:
    from collections.abc import Mapping

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
# The SyncMessage lists the stand-in snapshot leaves empty.
EMPTY_SYNC_LISTS = (
    "cashBalances",
    "positions",
    "orders",
    "orderVersions",
    "commands",
    "commandReports",
    "executionReports",
    "fills",
    "orderStrategies",
    "orderStrategyLinks",
    "orderStrategyTypes",
    "contractGroups",
)


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
    # A socket the client sends nothing on (not even ``[]``) for this long is dropped.
    ws_client_timeout: float = 30.0
    # The open websockets, so faults and ended sessions can close them.
    sockets: SocketRegistry = attrs.field(factory=SocketRegistry)
    stream_faults: StreamFaults = attrs.field(init=False)
    # The streams' stand-in token book (see ``issue_stream_tokens``).
    _access_tokens: dict[str, int] = attrs.field(factory=dict)
    _md_tokens: dict[str, int] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        self.stream_faults = StreamFaults(self.sockets.end_all, self._stall)

    def _stall(self, kind: SocketKind, seconds: float) -> None:
        hub = self.changes if kind is SocketKind.USER else self.market_data
        hub.stall(seconds)

    def apply_fault(self, spec: Mapping[str, Any]) -> None:
        """Arm a Tradovate fault (``{"front": "tradovate", "fault": NAME, ...}``); raises
        FaultError for one no part of the front knows. Every part sees ``clear``."""
        known = [faults.configure(spec) for faults in (self.stream_faults,)]
        if not any(known):
            raise FaultError(f"invalid fault request: unknown fault {spec.get('fault')!r}")

    def end_token_sessions(self, token: str) -> None:
        """The session of ``token`` is over (a newer login closed it, or it was revoked):
        close the sockets authorized with it. The token book calls this."""
        self.sockets.end_token(token)

    # The token book, for the streams only: a stand-in the REST front's tokens replace.
    # It knows only tokens issued by ``issue_stream_tokens``.

    def access_user(self, token: str) -> int | None:
        """The user id of a valid access token, else None."""
        return self._access_tokens.get(token)

    def md_access_user(self, token: str) -> int | None:
        """The user id of a valid ``mdAccessToken``, else None."""
        return self._md_tokens.get(token)

    def issue_stream_tokens(self) -> tuple[str, str]:
        """A fresh (accessToken, mdAccessToken) pair for this front's user."""
        access, md = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._access_tokens[access] = self.user_id
        self._md_tokens[md] = self.user_id
        return access, md

    def revoke_stream_tokens(self) -> None:
        """Every issued token stops being valid, and their sockets close."""
        revoked = [*self._access_tokens, *self._md_tokens]
        self._access_tokens.clear()
        self._md_tokens.clear()
        for token in revoked:
            self.end_token_sessions(token)

    def sync_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """The ``user/syncrequest`` answer: every entity list by its Tradovate name.

        A stand-in until the entity store replaces it: the user, the account and the
        listed contracts and products; no trading entities.
        """
        contracts = listed_contracts(self.clock().date())
        products = {c.product.id: c.product for c in contracts}
        return {
            "users": [{"id": self.user_id, "name": self.user_name, "status": "Active"}],
            "accounts": [
                {
                    "id": self.account_id,
                    "name": self.account_name,
                    "userId": self.user_id,
                    "accountType": "Customer",
                    "active": True,
                    "archived": False,
                }
            ],
            "contracts": [
                {"id": c.id, "name": c.name, "contractMaturityId": c.maturity_id} for c in contracts
            ],
            "products": [
                {
                    "id": p.id,
                    "name": p.root,
                    "description": p.description,
                    "valuePerPoint": p.value_per_point,
                    "tickSize": p.tick_size,
                }
                for p in products.values()
            ],
            **{name: [] for name in EMPTY_SYNC_LISTS},
        }

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
