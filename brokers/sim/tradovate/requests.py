"""Tradovate request bodies as the front reads them (venue field names, camelCase).

Unknown fields are ignored, as clients send more than the venue models (``p-ticket``,
``customTag50``...). ``read`` raises ``BadRequest`` with the reason a body does not fit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, TypeVar

import msgspec

Action = Literal["Buy", "Sell"]
OrderTypeName = Literal["Market", "Limit", "Stop", "StopLimit", "MIT", "LimitIfTouched"]
TimeInForceName = Literal["Day", "GTC", "IOC", "FOK", "GTD"]

T = TypeVar("T")


class BadRequest(ValueError):
    """A body the endpoint cannot read: a missing or mistyped field."""


class Body(msgspec.Struct, rename="camel", kw_only=True):
    """Base of the request bodies."""


class AccessTokenRequest(Body, kw_only=True):
    name: str
    password: str
    app_id: str | None = None
    app_version: str | None = None
    device_id: str | None = None
    cid: str | int | None = None
    sec: str | None = None


class RollContract(Body, kw_only=True):
    name: str
    forward: bool
    if_expired: bool = False


class CashBalanceSnapshot(Body, kw_only=True):
    account_id: int


class RestrainedOrder(Body, kw_only=True):
    """An order version inside another request (an OSO bracket, an OCO's ``other``)."""

    action: Action
    order_type: OrderTypeName
    cl_ord_id: str | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForceName | None = None
    text: str | None = None


class PlaceOrder(Body, kw_only=True):
    account_spec: str | None = None
    account_id: int | None = None
    cl_ord_id: str | None = None
    action: Action
    symbol: str
    order_qty: int
    order_type: OrderTypeName
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForceName | None = None
    text: str | None = None
    is_automated: bool = False


class PlaceOso(PlaceOrder, kw_only=True):
    bracket1: RestrainedOrder
    bracket2: RestrainedOrder | None = None


class PlaceOco(PlaceOrder, kw_only=True):
    other: RestrainedOrder


class ModifyOrder(Body, kw_only=True):
    # orderQty and orderType are required even for a price-only move, as at Tradovate.
    order_id: int
    order_qty: int
    order_type: OrderTypeName
    cl_ord_id: str | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForceName | None = None
    text: str | None = None
    is_automated: bool = False


class CancelOrder(Body, kw_only=True):
    order_id: int
    cl_ord_id: str | None = None
    is_automated: bool = False


class LiquidatePosition(Body, kw_only=True):
    account_id: int
    contract_id: int
    admin: bool
    is_automated: bool = False


class StartOrderStrategy(Body, kw_only=True):
    account_id: int | None = None
    account_spec: str | None = None
    symbol: str
    order_strategy_type_id: int
    action: Action
    params: str
    uuid: str | None = None
    is_automated: bool = False


class EntryVersion(Body, kw_only=True):
    order_qty: int
    order_type: OrderTypeName
    time_in_force: TimeInForceName | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None


class StrategyBracket(Body, kw_only=True):
    qty: int
    profit_target: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: bool = False


class MultibracketParams(Body, kw_only=True):
    entry_version: EntryVersion
    brackets: list[StrategyBracket]


class InterruptOrderStrategy(Body, kw_only=True):
    order_strategy_id: int


def read(body: Any, kind: type[T]) -> T:
    """``body`` (decoded JSON) as ``kind``, or BadRequest."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    try:
        return msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc)) from exc


def read_params(text: str) -> MultibracketParams:
    """A strategy's ``params``: a JSON object sent as a string."""
    try:
        return msgspec.json.decode(text, type=MultibracketParams)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise BadRequest(f"params: {exc}") from exc
