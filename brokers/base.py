"""Venue-facing domain types and the Broker protocol.

Everything an actor knows about a venue is here. Adapters (``brokers/alpaca``,
``brokers/tradovate``) keep their wire Structs in their own ``schemas.py`` and convert to
these types at the edge. Money and quantities are ``Decimal``; times are UTC-aware.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

import msgspec

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from contextlib import AbstractAsyncContextManager


def utc_now() -> datetime:
    """The wall clock, always timezone-aware UTC (never ``datetime.utcnow()``)."""
    return datetime.now(UTC)


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(enum.StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(enum.StrEnum):
    """An order's status as the venue reports it, normalized across venues."""

    PENDING_NEW = "pending_new"
    NEW = "new"  # working at the venue (Alpaca's ``new`` and ``accepted``)
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    REJECTED = "rejected"
    HELD = "held"  # an inactive bracket leg
    SUSPENDED = "suspended"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REPLACED,
        OrderStatus.REJECTED,
    }
)


class OrderEvent(enum.StrEnum):
    """What happened to an order, as a stream or a REST snapshot tells it."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    REJECTED = "rejected"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    CANCEL_REJECTED = "order_cancel_rejected"
    REPLACE_REJECTED = "order_replace_rejected"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    CALCULATED = "calculated"
    SNAPSHOT = "snapshot"  # a REST lookup, not a stream event


class Domain(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the domain types: immutable, keyword-only."""


class OrderRequest(Domain, frozen=True, kw_only=True):
    """An order tradingd wants at the venue. ``client_order_id`` is deterministic."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    # Bracket exits (absolute prices); a venue with native brackets places them as legs.
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    # None: derived from the exits (both: bracket, one: oto). "oco": this order *is* the
    # exit pair (take-profit limit, stop-loss stop) for a position already held.
    order_class: Literal["oco"] | None = None


class VenueOrder(Domain, frozen=True, kw_only=True):
    """An order as the venue knows it."""

    venue_order_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    status: OrderStatus
    order_type: OrderType
    time_in_force: TimeInForce
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    submitted_at: datetime
    updated_at: datetime
    replaces: str | None = None
    legs: tuple[VenueOrder, ...] = ()


def request_of(order: VenueOrder) -> OrderRequest:
    """What was asked, as far as the venue's view of an order says (a leg, an adopted order)."""
    return OrderRequest(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=order.qty,
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
    )


class Fill(Domain, frozen=True, kw_only=True):
    """One execution. ``execution_id`` is unique per venue and de-duplicates fills."""

    execution_id: str
    qty: Decimal
    price: Decimal
    at: datetime


class OrderUpdate(Domain, frozen=True, kw_only=True):
    """One thing that happened to an order, from the stream or a REST lookup."""

    event: OrderEvent
    order: VenueOrder
    at: datetime
    fill: Fill | None = None
    # The venue's position in the symbol after this event, when it says.
    position_qty: Decimal | None = None
    source: Literal["stream", "rest"] = "stream"


class Position(Domain, frozen=True, kw_only=True):
    """A position at the venue: ``qty`` is signed (short is negative)."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    market_value: Decimal | None = None


class Asset(Domain, frozen=True, kw_only=True):
    """What the venue says about a tradable instrument."""

    symbol: str
    tradable: bool
    shortable: bool = False
    fractionable: bool = False
    min_order_size: Decimal | None = None
    min_trade_increment: Decimal | None = None
    price_increment: Decimal | None = None


class InstrumentKind(enum.StrEnum):
    EQUITY = "equity"
    FUTURE = "future"


class MonthCode(enum.StrEnum):
    """A futures maturity month as exchanges spell it (``Z`` is December)."""

    F = "F"
    G = "G"
    H = "H"
    J = "J"
    K = "K"
    M = "M"
    N = "N"
    Q = "Q"
    U = "U"
    V = "V"
    X = "X"
    Z = "Z"

    @property
    def month(self) -> int:
        return list(MonthCode).index(self) + 1

    @classmethod
    def of_month(cls, month: int) -> MonthCode:
        return list(cls)[month - 1]


class ContractMonth(Domain, frozen=True, kw_only=True):
    """One maturity of a futures product, named as Tradovate names it: ``MNQZ6``."""

    root: str  # the product: "MNQ"
    month_code: MonthCode
    year: int  # the full year; the name carries its last digit only
    expiration_date: date

    @property
    def name(self) -> str:
        return f"{self.root}{self.month_code}{self.year % 10}"


class Margin(Domain, frozen=True, kw_only=True):
    """Margin per contract: what opening one needs, and what holding one needs."""

    initial: Decimal
    maintenance: Decimal


class Instrument(Domain, frozen=True, kw_only=True):
    """What a price and a quantity of ``symbol`` mean: its kind, what one point is worth
    (``multiplier``; 1 for an equity), its tick and quantity steps, and for a future its
    contract month and margin."""

    symbol: str
    kind: InstrumentKind
    multiplier: Decimal = Decimal(1)
    tick_size: Decimal = Decimal("0.01")
    # Futures trade whole contracts: a step of 1.
    qty_increment: Decimal | None = None
    contract: ContractMonth | None = None
    margin: Margin | None = None

    @property
    def tick_value(self) -> Decimal:
        """What one tick is worth for one unit (MNQ: 0.25 x $2 = $0.50)."""
        return self.tick_size * self.multiplier

    def is_on_grid(self, price: Decimal) -> bool:
        return price > 0 and price % self.tick_size == 0

    def value(self, points: Decimal, qty: Decimal) -> Decimal:
        """The money of ``points`` of price move on ``qty`` units."""
        return points * qty * self.multiplier


def equity_instrument(symbol: str, tick_size: Decimal = Decimal("0.01")) -> Instrument:
    return Instrument(symbol=symbol, kind=InstrumentKind.EQUITY, tick_size=tick_size)


def future_instrument(
    contract: ContractMonth, *, multiplier: Decimal, tick_size: Decimal, margin: Margin
) -> Instrument:
    return Instrument(
        symbol=contract.name,
        kind=InstrumentKind.FUTURE,
        multiplier=multiplier,
        tick_size=tick_size,
        qty_increment=Decimal(1),
        contract=contract,
        margin=margin,
    )


class Account(Domain, frozen=True, kw_only=True):
    cash: Decimal
    buying_power: Decimal
    equity: Decimal
    currency: str = "USD"
    # The equity at the previous session's close (Alpaca's ``last_equity``): the start of
    # today's loss count, even for a daemon started mid-day.
    last_equity: Decimal | None = None


class MarketClock(Domain, frozen=True, kw_only=True):
    """The venue's market clock: the trading day for equities ends at ``next_close``."""

    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


class VenueCall(Domain, frozen=True, kw_only=True):
    """One HTTP call to a venue, for the audit log. Bodies have secrets removed."""

    method: str
    path: str
    status: int | None  # None when no response came back
    latency_s: float
    at: datetime
    # The instrument the call was about, as the adapter knew it: the order's (sent, or
    # read back); None for a call about the account or many symbols.
    symbol: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    error: str | None = None


class Trade(Domain, frozen=True, kw_only=True):
    """One print from the venue's market-data stream."""

    symbol: str
    price: Decimal
    size: Decimal
    at: datetime


OrderListStatus = Literal["open", "closed", "all"]


class RequestPriority(enum.IntEnum):
    """Who goes first when a venue's request budget is short (``brokers.budget``); lower
    goes first. A waiter never holds back one of a more urgent class."""

    PROTECTIVE = 0  # cancels, closes and exits: what takes risk off
    NEW_ORDER = 1  # an order that opens or adds to a position
    LOOKUP = 2  # one order by id or client id
    RECONCILE = 3  # account, positions, order lists, clock, assets


class Broker(Protocol):
    """What an actor may ask of a venue. Every method may raise a ``BrokerError``.

    ``submit_order`` returns the venue's acknowledgement; fills arrive later through
    ``order_updates``. ``get_order_by_client_id`` returns None when the venue never
    received the order: the one fact that makes a resubmission safe.
    """

    async def get_account(self) -> Account: ...

    async def get_clock(self) -> MarketClock:
        """The venue's market clock: when the trading day opens and ends."""
        ...

    async def submit_order(
        self, request: OrderRequest, *, priority: RequestPriority = RequestPriority.NEW_ORDER
    ) -> VenueOrder:
        """``priority``: ``PROTECTIVE`` for an order that only brings a position toward
        flat, so it goes before entries when the venue's request budget is short."""
        ...

    async def get_order_by_client_id(self, client_order_id: str) -> VenueOrder | None: ...

    async def get_order(self, venue_order_id: str) -> VenueOrder: ...

    async def cancel_order(self, venue_order_id: str) -> None: ...

    async def list_orders(
        self,
        *,
        status: OrderListStatus = "open",
        after: datetime | None = None,
        limit: int = 500,
        nested: bool = True,
    ) -> list[VenueOrder]:
        """Oldest first. ``nested``: bracket legs under their parent (a leg still working
        under a filled parent is then missing from an ``open`` listing); else each on its own."""
        ...

    async def list_positions(self) -> list[Position]: ...

    async def list_assets(self) -> list[Asset]:
        """Every active asset (tradable or not) the venue lists."""
        ...

    def order_updates(self) -> AbstractAsyncContextManager[AsyncIterator[OrderUpdate]]:
        """Open the venue's order-update stream.

        Iterating yields updates until the connection breaks, which raises
        ``BrokerUnavailable``; reconnecting is the caller's job (OrderMonitor).
        """
        ...

    async def aclose(self) -> None: ...


class MarketData(Protocol):
    """The venue's market-data stream: the only source of prices for decisions."""

    def trades(self, symbols: Sequence[str]) -> AbstractAsyncContextManager[AsyncIterator[Trade]]:
        """Subscribe to trades (``["*"]`` for every symbol); breaks raise BrokerUnavailable."""
        ...
