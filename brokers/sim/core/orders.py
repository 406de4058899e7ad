"""The venue's order records, order tickets, events and refusals (no behaviour here)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs
import msgspec

from brokers.base import OrderType, Side, TimeInForce

if TYPE_CHECKING:
    from datetime import datetime

# Alpaca's order statuses, split the way GET /v2/orders?status= splits them.
OPEN_STATUSES = frozenset(
    {
        "new",
        "accepted",
        "pending_new",
        "accepted_for_bidding",
        "partially_filled",
        "held",
        "pending_cancel",
        "pending_replace",
        "done_for_day",
        "stopped",
        "calculated",
        "suspended",
    }
)
CLOSED_STATUSES = frozenset({"filled", "canceled", "expired", "replaced", "rejected"})


class OrderTicket(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed order request, before the matching core has looked at it."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    extended_hours: bool = False
    # "simple", "bracket", "oco" or "oto"; the exit prices come with the last three.
    order_class: str = "simple"
    take_profit_limit: Decimal | None = None
    stop_loss_stop: Decimal | None = None
    stop_loss_limit: Decimal | None = None


class OrderChanges(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed PATCH /v2/orders/{id}: the fields to change, None for unchanged."""

    qty: Decimal | None = None
    time_in_force: TimeInForce | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None


@attrs.frozen
class SimOrder:
    """An order at the venue. Frozen: every change makes a new record."""

    id: str
    client_order_id: str
    symbol: str
    asset_id: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    created_at: datetime
    status: str
    updated_at: datetime
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None  # when the venue rejected an order it had accepted
    # Buying power this order reserves while open (its opening part at its price).
    hold: Decimal = Decimal(0)
    # A stop or stop-limit order whose stop price has been reached.
    triggered: bool = False
    order_class: str = "simple"
    # The exit orders of a bracket, oto or oco order, and, on an exit, its parent.
    legs: tuple[str, ...] = ()
    parent_id: str | None = None
    # Whether the order may fill: a bracket's exits are armed when the entry has filled.
    armed: bool = True
    replaces: str | None = None
    replaced_by: str | None = None
    replaced_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty


@attrs.frozen
class SimEvent:
    """One ``trade_updates`` event: the order as it stands after the event."""

    event: str
    order: SimOrder
    timestamp: datetime
    execution_id: str
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None
    # A cancel the venue made because the order's one-cancels-other sibling filled.
    sibling_cancel: bool = False
    # A multi-leg parent's legs as they stood at the event, nested as Alpaca nests them.
    legs: tuple[SimOrder, ...] = ()
    # The order's pending state (pending_cancel) was streamed already, by the core itself.
    pending_shown: bool = False


# Tradovate's ``failureReason`` values (its OpenAPI spec's enum, as far as the venue uses it).
FailureReason = Literal[
    "AccountClosed",
    "AnotherCommandPending",
    "InvalidContract",
    "InvalidPrice",
    "LiquidationOnly",
    "MaxPosLimitReached",
    "NoQuote",
    "RiskCheckTimeout",
    "SessionClosed",
    "TooLate",
    "TradingLocked",
    "Unauthorized",
    "UnknownReason",
    "Unsupported",
]


class VenueRejection(Exception):
    """The venue refuses a request: an HTTP status and Alpaca's error body, and the
    ``failureReason`` the Tradovate front answers with (``reason``)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        reason: FailureReason = "UnknownReason",
        **extras: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.reason: FailureReason = reason
        self.extras = extras

    @property
    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extras}


def unprocessable(message: str) -> VenueRejection:
    return VenueRejection(422, 42210000, message)


def decimal_text(value: Decimal) -> str:
    """A decimal as Alpaca writes it: plain digits, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
