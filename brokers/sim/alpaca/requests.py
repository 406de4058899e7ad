"""Reading request bodies: an order ticket from POST /v2/orders, prices from /_sim/prices,
a clock move from /_sim/clock.

Numbers are accepted as JSON strings or numbers (alpaca-py sends floats) and read as
``Decimal`` from their text, so ``1.1`` stays exactly 1.1.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import msgspec

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.orders import OrderChanges, OrderTicket, VenueRejection, unprocessable


class _OrderBody(msgspec.Struct, kw_only=True):
    # Every field optional: a missing one is a 422 naming it, a wrong type a 400.
    symbol: str | None = None
    side: str | None = None
    type: str | None = None
    time_in_force: str | None = None
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    extended_hours: bool | None = None
    order_class: str | None = None
    take_profit: _ExitBody | None = None
    stop_loss: _ExitBody | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None


class _ExitBody(msgspec.Struct, kw_only=True):
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


class _ChangesBody(msgspec.Struct, kw_only=True):
    qty: Decimal | None = None
    time_in_force: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    trail: Decimal | None = None


_order_body = msgspec.json.Decoder(_OrderBody)
_changes_body = msgspec.json.Decoder(_ChangesBody)
_prices_body = msgspec.json.Decoder(dict[str, Decimal])


def malformed() -> VenueRejection:
    return VenueRejection(400, 40010000, "request body format is invalid")


def parse_order(body: bytes) -> OrderTicket:
    """An order ticket, or VenueRejection (400 malformed, 422 invalid)."""
    try:
        raw = _order_body.decode(body)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
        raise malformed() from exc
    symbol = _required(raw.symbol, "symbol")
    side_text = _required(raw.side, "side")
    type_text = _required(raw.type, "type")
    tif_text = _required(raw.time_in_force, "time_in_force")
    if raw.trail_price is not None or raw.trail_percent is not None:
        raise unprocessable("trailing stop orders are not supported")
    try:
        side = Side(side_text)
    except ValueError:
        raise unprocessable("invalid side") from None
    try:
        order_type = OrderType(type_text)
    except ValueError:
        raise unprocessable("invalid order type") from None
    try:
        time_in_force = TimeInForce(tif_text)
    except ValueError:
        raise unprocessable("invalid time_in_force") from None
    return OrderTicket(
        symbol=symbol.upper(),
        side=side,
        type=order_type,
        time_in_force=time_in_force,
        qty=raw.qty,
        notional=raw.notional,
        limit_price=raw.limit_price,
        stop_price=raw.stop_price,
        client_order_id=raw.client_order_id,
        extended_hours=bool(raw.extended_hours),
        order_class=raw.order_class or "simple",
        take_profit_limit=raw.take_profit.limit_price if raw.take_profit else None,
        stop_loss_stop=raw.stop_loss.stop_price if raw.stop_loss else None,
        stop_loss_limit=raw.stop_loss.limit_price if raw.stop_loss else None,
    )


def parse_changes(body: bytes) -> OrderChanges:
    """The fields of a PATCH /v2/orders/{id}, or VenueRejection."""
    try:
        raw = _changes_body.decode(body or b"{}")
    except msgspec.DecodeError as exc:
        raise malformed() from exc
    if raw.trail is not None:
        raise unprocessable("trailing stop orders are not supported")
    try:
        tif = TimeInForce(raw.time_in_force) if raw.time_in_force is not None else None
    except ValueError:
        raise unprocessable("invalid time_in_force") from None
    return OrderChanges(
        qty=raw.qty,
        time_in_force=tif,
        limit_price=raw.limit_price,
        stop_price=raw.stop_price,
        client_order_id=raw.client_order_id,
    )


def _required(value: str | None, name: str) -> str:
    if value is None:
        raise unprocessable(f"{name} is required")
    return value


def parse_prices(body: bytes) -> dict[str, Decimal]:
    """``{"AAPL": "187.20", ...}`` with symbols upper-cased."""
    try:
        prices = _prices_body.decode(body)
    except msgspec.DecodeError as exc:
        raise malformed() from exc
    return {symbol.upper(): price for symbol, price in prices.items()}


class _ClockBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    advance: float | None = None  # seconds
    to: datetime | None = None


_clock_body = msgspec.json.Decoder(_ClockBody)


def parse_clock_move(body: bytes) -> timedelta | datetime:
    """``{"advance": SECONDS}`` (a timedelta) or ``{"to": RFC3339}`` (an aware datetime)."""
    try:
        raw = _clock_body.decode(body)
    except msgspec.DecodeError as exc:
        raise malformed() from exc
    if (raw.advance is None) == (raw.to is None):
        raise unprocessable("give exactly one of advance (seconds) and to (a time)")
    if raw.to is not None:
        if raw.to.tzinfo is None:
            raise unprocessable("to needs a UTC offset, e.g. 2026-01-05T21:00:00Z")
        return raw.to
    assert raw.advance is not None
    if not 0 <= raw.advance <= 366 * 86400:
        raise unprocessable("advance must be within 0 seconds and a year")
    return timedelta(seconds=raw.advance)
