"""Tradovate's JSON as the front writes it: ids as ints, numbers as JSON numbers, times as
ISO-8601 ``...Z`` with milliseconds, trade dates as ``{year, month, day}``; and the contract,
product, maturity and cash-balance bodies (pure)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.contracts import (
    PRODUCTS,
    FuturesContract,
    FuturesProduct,
    front_contract,
    parse_contract,
)
from brokers.sim.core.globex import trading_date

if TYPE_CHECKING:
    from decimal import Decimal

    from brokers.sim.tradovate.front import TradovateFront

CHICAGO = ZoneInfo("America/Chicago")
# Tradovate's currency id of US dollars.
USD = 1


class FailureReason(enum.Enum):
    """The failure reasons of Tradovate's OpenAPI spec that the venue gives."""

    UNKNOWN_REASON = "UnknownReason"
    INVALID_CONTRACT = "InvalidContract"
    INVALID_PRICE = "InvalidPrice"
    SESSION_CLOSED = "SessionClosed"
    TOO_LATE = "TooLate"
    UNSUPPORTED = "Unsupported"
    UNAUTHORIZED = "Unauthorized"
    NOT_ENOUGH_LIQUIDITY = "NotEnoughLiquidity"


def num(value: Decimal | int) -> int | float:
    """A number as JSON carries it: an int when whole."""
    if isinstance(value, int) or value == value.to_integral_value():
        return int(value)
    return float(value)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def trade_date(moment: datetime) -> dict[str, int]:
    day = trading_date(moment)
    return {"year": day.year, "month": day.month, "day": day.day}


def failure(reason: FailureReason, text: str) -> dict[str, Any]:
    return {"failureReason": reason.value, "failureText": text}


ACTIONS: dict[Side, str] = {Side.BUY: "Buy", Side.SELL: "Sell"}
ORDER_TYPES: dict[OrderType, str] = {
    OrderType.MARKET: "Market",
    OrderType.LIMIT: "Limit",
    OrderType.STOP: "Stop",
    OrderType.STOP_LIMIT: "StopLimit",
}
TIMES_IN_FORCE: dict[TimeInForce, str] = {
    TimeInForce.DAY: "Day",
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
}


def contract_json(contract: FuturesContract, now: datetime) -> dict[str, Any]:
    return {
        "id": contract.id,
        "name": contract.name,
        "contractMaturityId": contract.maturity_id,
        "status": "DefinitionChecked",
        "providerTickSize": num(contract.product.tick_size),
        "timestamp": timestamp(now),
    }


def product_json(product: FuturesProduct, now: datetime) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.root,
        "currencyId": USD,
        "productType": "Futures",
        "description": product.description,
        "exchangeId": 1,
        "exchangeChannelId": 1,
        "contractGroupId": 1,
        "status": "Verified",
        "valuePerPoint": num(product.value_per_point),
        "priceFormatType": "Decimal",
        "priceFormat": -2,
        "tickSize": num(product.tick_size),
        "isMicro": product.root.startswith("M"),
        "timestamp": timestamp(now),
    }


def maturity_json(contract: FuturesContract, now: datetime) -> dict[str, Any]:
    expiry = datetime.combine(contract.expiration_date, datetime.min.time(), tzinfo=CHICAGO)
    front = front_contract(contract.product, trading_date(now))
    return {
        "id": contract.maturity_id,
        "productId": contract.product.id,
        "expirationMonth": contract.year * 100 + contract.month,
        "expirationDate": timestamp(expiry.replace(hour=8, minute=30)),
        "firstIntentDate": timestamp(expiry.replace(hour=8, minute=30)),
        "underlyingId": None,
        "isFront": contract == front,
        "timestamp": timestamp(now),
    }


def listed(front: TradovateFront) -> list[FuturesContract]:
    """The contracts the front's core trades, as Tradovate contracts. An expired one is
    left out: its name now reads as the maturity ten years later."""
    day = trading_date(front.clock())
    found = (parse_contract(a.symbol, day) for a in front.core.assets() if a.tradable)
    return [c for c in found if c is not None]


def product_named(name: str) -> FuturesProduct | None:
    return PRODUCTS.get(name.upper())


def cash_balance_json(front: TradovateFront) -> dict[str, Any]:
    """``cashBalance/getcashbalancesnapshot``: the futures account's money at current prices."""
    figures = front.core.futures_figures()
    now = front.clock()
    return {
        "accountId": front.account_id,
        "timestamp": timestamp(now),
        "tradeDate": trade_date(now),
        "currencyId": USD,
        "amount": num(figures.total_cash_value),
        "realizedPnL": num(figures.realized_pnl),
        "weekRealizedPnL": num(figures.week_realized_pnl),
        "totalCashValue": num(figures.total_cash_value),
        "totalPnL": num(figures.realized_pnl + figures.open_pnl),
        "initialMargin": num(figures.initial_margin),
        "maintenanceMargin": num(figures.maintenance_margin),
        "netLiq": num(figures.net_liq),
        "openPnL": num(figures.open_pnl),
        "netLiqSOD": num(figures.net_liq_sod),
        "totalCashValueSOD": num(figures.total_cash_value_sod),
    }
