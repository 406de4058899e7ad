"""Alpaca Trading API v2 wire payloads, with Alpaca's own field names.

Decoding is lenient where Alpaca is loose (Decimals as strings or numbers, unknown fields
ignored, enums kept as ``str`` so a new value is a mapping question, not a decode failure)
and strict where tradingd depends on a field (ids, side, status, timestamps). Conversion
to the domain types of ``brokers.base`` happens in ``mapping.py``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec


class Wire(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the payloads Alpaca sends: immutable, unknown fields ignored."""


class Order(Wire, frozen=True, kw_only=True):
    """An order as REST returns it and as ``trade_updates`` events carry it."""

    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    status: str
    created_at: datetime
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    # Null for notional (dollar amount) orders.
    qty: Decimal | None = None
    notional: Decimal | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    order_class: str = ""
    replaces: str | None = None
    replaced_by: str | None = None
    legs: list[Order] | None = None


class Position(Wire, frozen=True, kw_only=True):
    """A position; ``qty`` and ``market_value`` are negative when short."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    side: str = "long"
    market_value: Decimal | None = None


class Account(Wire, frozen=True, kw_only=True):
    id: str
    status: str
    cash: Decimal
    buying_power: Decimal
    equity: Decimal
    currency: str = "USD"
    last_equity: Decimal | None = None


class Clock(Wire, frozen=True, kw_only=True):
    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


class Asset(Wire, frozen=True, kw_only=True):
    symbol: str
    tradable: bool
    status: str = "active"
    asset_class: str = msgspec.field(default="us_equity", name="class")
    shortable: bool = False
    fractionable: bool = False
    min_order_size: Decimal | None = None
    min_trade_increment: Decimal | None = None
    price_increment: Decimal | None = None


class ErrorBody(Wire, frozen=True, kw_only=True):
    """``{"code": 40310000, "message": "...", ...extras}``; 401 carries only a message."""

    code: int | str | None = None
    message: str | None = None


# --- what tradingd sends -------------------------------------------------------------------


class Outgoing(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of request bodies: fields left at None are not sent."""


class TakeProfitLeg(Outgoing, frozen=True, kw_only=True):
    limit_price: str


class StopLossLeg(Outgoing, frozen=True, kw_only=True):
    stop_price: str


class NewOrder(Outgoing, frozen=True, kw_only=True):
    """POST /v2/orders. Decimals travel as plain-notation strings (never ``1E+1``)."""

    symbol: str
    qty: str
    side: str
    type: str
    time_in_force: str
    client_order_id: str
    limit_price: str | None = None
    stop_price: str | None = None
    order_class: str | None = None
    take_profit: TakeProfitLeg | None = None
    stop_loss: StopLossLeg | None = None


# --- the trade_updates stream --------------------------------------------------------------


class TradeUpdate(Wire, frozen=True, kw_only=True):
    """The ``data`` of a ``trade_updates`` message; ``price``/``qty`` are per fill."""

    event: str
    order: Order
    timestamp: datetime
    execution_id: str | None = None
    position_qty: Decimal | None = None
    price: Decimal | None = None
    qty: Decimal | None = None


class AuthorizationData(Wire, frozen=True, kw_only=True):
    status: str
    action: str | None = None


class ListeningData(Wire, frozen=True, kw_only=True):
    streams: list[str] = []
    error: str | None = None


class StreamMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="stream"):
    """A server message, tagged by its ``stream`` field."""


class AuthorizationMessage(StreamMessage, frozen=True, kw_only=True, tag="authorization"):
    data: AuthorizationData


class ListeningMessage(StreamMessage, frozen=True, kw_only=True, tag="listening"):
    data: ListeningData


class TradeUpdatesMessage(StreamMessage, frozen=True, kw_only=True, tag="trade_updates"):
    data: TradeUpdate


class StreamErrorData(Wire, frozen=True, kw_only=True):
    error_message: str = ""


class StreamError(Wire, frozen=True, kw_only=True):
    """``{"action":"error","data":{"error_message":...}}``, sent before the server closes."""

    action: str
    data: StreamErrorData


# One reusable decoder per payload type: building a Decoder is the costly part.
ORDER = msgspec.json.Decoder(Order)
ORDERS = msgspec.json.Decoder(list[Order])
POSITIONS = msgspec.json.Decoder(list[Position])
ACCOUNT = msgspec.json.Decoder(Account)
CLOCK = msgspec.json.Decoder(Clock)
ASSETS = msgspec.json.Decoder(list[Asset])
ERROR_BODY = msgspec.json.Decoder(ErrorBody)
ERROR_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
ServerMessage = AuthorizationMessage | ListeningMessage | TradeUpdatesMessage
STREAM_MESSAGE: msgspec.json.Decoder[ServerMessage] = msgspec.json.Decoder(ServerMessage)
STREAM_ERROR = msgspec.json.Decoder(StreamError)
ENCODER = msgspec.json.Encoder()
