"""Pure conversions between Alpaca's wire payloads and tradingd's domain types.

No I/O, no clock. Where Alpaca has more values than the domain, the choice is written
next to the table that makes it. A payload that cannot be expressed in domain terms
raises ``UnreadablePayload``; the I/O layer turns that into a ``BrokerError`` (REST) or a
logged, skipped event (stream).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from brokers.alpaca import schemas
from brokers.base import (
    Account,
    Asset,
    Fill,
    MarketClock,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
    TimeInForce,
    VenueOrder,
)

if TYPE_CHECKING:
    from decimal import Decimal


class UnreadablePayload(ValueError):
    """A well-formed payload holding a value tradingd has no domain term for."""


# --- OrderRequest -> POST /v2/orders ---------------------------------------------------------


def _plain(value: Decimal) -> str:
    """Plain notation: ``Decimal("1E+1")`` must travel as ``"10"``, never in exponent form."""
    return format(value, "f")


def order_body(request: OrderRequest) -> bytes:
    """The JSON body of POST /v2/orders for ``request``.

    Both exits make a ``bracket``; one exit makes an ``oto`` (entry plus that exit); an
    ``oco`` request is an exit pair for a position already held.
    """
    order_class: str | None = None
    take_profit = None
    stop_loss = None
    if request.take_profit is not None:
        take_profit = schemas.TakeProfitLeg(limit_price=_plain(request.take_profit))
    if request.stop_loss is not None:
        stop_loss = schemas.StopLossLeg(stop_price=_plain(request.stop_loss))
    if request.order_class is not None:
        order_class = request.order_class
    elif take_profit is not None or stop_loss is not None:
        order_class = "bracket" if take_profit is not None and stop_loss is not None else "oto"
    body = schemas.NewOrder(
        symbol=request.symbol,
        qty=_plain(request.qty),
        side=request.side.value,
        type=request.order_type.value,
        time_in_force=request.time_in_force.value,
        client_order_id=request.client_order_id,
        limit_price=None if request.limit_price is None else _plain(request.limit_price),
        stop_price=None if request.stop_price is None else _plain(request.stop_price),
        order_class=order_class,
        take_profit=take_profit,
        stop_loss=stop_loss,
    )
    return schemas.ENCODER.encode(body)


# --- wire Order -> VenueOrder ----------------------------------------------------------------

_STATUSES: dict[str, OrderStatus] = {
    "pending_new": OrderStatus.PENDING_NEW,
    # Held for a manual review before it reaches the market: not working yet.
    "pending_review": OrderStatus.PENDING_NEW,
    "new": OrderStatus.NEW,
    "accepted": OrderStatus.NEW,
    "accepted_for_bidding": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "done_for_day": OrderStatus.DONE_FOR_DAY,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "replaced": OrderStatus.REPLACED,
    "pending_cancel": OrderStatus.PENDING_CANCEL,
    "pending_replace": OrderStatus.PENDING_REPLACE,
    "rejected": OrderStatus.REJECTED,
    "held": OrderStatus.HELD,
    "suspended": OrderStatus.SUSPENDED,
}

_TYPES: dict[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    # tradingd never sends one; an order placed by hand still has to be readable. Alpaca
    # reports its current trigger in stop_price, which is what a stop order means.
    "trailing_stop": OrderType.STOP,
}

_TIMES_IN_FORCE: dict[str, TimeInForce] = {
    "day": TimeInForce.DAY,
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.FOK,
    # Opening and closing auction orders live within one session.
    "opg": TimeInForce.DAY,
    "cls": TimeInForce.DAY,
}

_SIDES: dict[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}

_T = TypeVar("_T")


def _lookup(table: dict[str, _T], value: str, what: str) -> _T:
    try:
        return table[value]
    except KeyError:
        raise UnreadablePayload(f"unknown {what} {value!r}") from None


def _utc(value: datetime) -> datetime:
    """Alpaca sends offsets (``Z`` or ``-04:00``); a timestamp without one is UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """A query-string timestamp: UTC, ``Z`` suffix."""
    return _utc(value).isoformat().replace("+00:00", "Z")


def order_status(wire: schemas.Order, ordered_qty: Decimal) -> OrderStatus:
    """Alpaca's status in domain terms.

    ``stopped``: a trade is guaranteed but has not happened yet, so the order is still
    working (NEW, or PARTIALLY_FILLED once something filled). ``calculated``: Alpaca
    documents it as "completed for the day (filled or done for day), settlement pending",
    so it is FILLED when the fills cover the order and DONE_FOR_DAY otherwise; calling it
    NEW would put a finished order back to work.
    """
    status = _STATUSES.get(wire.status)
    if status is not None:
        return status
    if wire.status == "stopped":
        return OrderStatus.PARTIALLY_FILLED if wire.filled_qty > 0 else OrderStatus.NEW
    if wire.status == "calculated":
        if wire.filled_qty > 0 and wire.filled_qty >= ordered_qty:
            return OrderStatus.FILLED
        return OrderStatus.DONE_FOR_DAY
    raise UnreadablePayload(f"unknown order status {wire.status!r}")


def venue_order(wire: schemas.Order) -> VenueOrder:
    """A wire order (and its legs, recursively) as a domain ``VenueOrder``."""
    # A notional order has no share quantity until it fills: what filled is all it is.
    qty = wire.qty if wire.qty is not None else wire.filled_qty
    submitted_at = _utc(wire.submitted_at or wire.created_at)
    return VenueOrder(
        venue_order_id=wire.id,
        client_order_id=wire.client_order_id,
        symbol=wire.symbol,
        side=_lookup(_SIDES, wire.side, "side"),
        qty=qty,
        filled_qty=wire.filled_qty,
        filled_avg_price=wire.filled_avg_price,
        status=order_status(wire, qty),
        order_type=_lookup(_TYPES, wire.type, "order type"),
        time_in_force=_lookup(_TIMES_IN_FORCE, wire.time_in_force, "time_in_force"),
        limit_price=wire.limit_price,
        stop_price=wire.stop_price,
        submitted_at=submitted_at,
        updated_at=_utc(wire.updated_at) if wire.updated_at is not None else submitted_at,
        replaces=wire.replaces,
        legs=tuple(venue_order(leg) for leg in wire.legs) if wire.legs else (),
    )


# --- positions, account, assets ---------------------------------------------------------------


def position(wire: schemas.Position) -> Position:
    """Alpaca already signs ``qty`` (negative when short)."""
    return Position(
        symbol=wire.symbol,
        qty=wire.qty,
        avg_entry_price=wire.avg_entry_price,
        market_value=wire.market_value,
    )


def account(wire: schemas.Account) -> Account:
    return Account(
        cash=wire.cash,
        buying_power=wire.buying_power,
        equity=wire.equity,
        currency=wire.currency,
        last_equity=wire.last_equity,
    )


def market_clock(wire: schemas.Clock) -> MarketClock:
    return MarketClock(
        timestamp=_utc(wire.timestamp),
        is_open=wire.is_open,
        next_open=_utc(wire.next_open),
        next_close=_utc(wire.next_close),
    )


def asset(wire: schemas.Asset) -> Asset:
    return Asset(
        symbol=wire.symbol,
        tradable=wire.tradable,
        shortable=wire.shortable,
        fractionable=wire.fractionable,
        min_order_size=wire.min_order_size,
        min_trade_increment=wire.min_trade_increment,
        price_increment=wire.price_increment,
    )


# --- trade_updates event -> OrderUpdate -------------------------------------------------------

_EVENTS: dict[str, OrderEvent] = {event.value: event for event in OrderEvent}
del _EVENTS[OrderEvent.SNAPSHOT.value]  # ours, for REST lookups; never a stream event
_FILL_EVENTS = frozenset({"fill", "partial_fill"})


def order_update(wire: schemas.TradeUpdate) -> OrderUpdate:
    """One ``trade_updates`` event as an ``OrderUpdate``.

    A fill event becomes a ``Fill`` only when it names its execution, quantity and price;
    without them the order's cumulative ``filled_qty`` still tells what filled.
    """
    at = _utc(wire.timestamp)
    fill = None
    if (
        wire.event in _FILL_EVENTS
        and wire.execution_id
        and wire.qty is not None
        and wire.price is not None
    ):
        fill = Fill(execution_id=wire.execution_id, qty=wire.qty, price=wire.price, at=at)
    return OrderUpdate(
        event=_lookup(_EVENTS, wire.event, "trade_updates event"),
        order=venue_order(wire.order),
        at=at,
        fill=fill,
        position_qty=wire.position_qty,
        source="stream",
    )
