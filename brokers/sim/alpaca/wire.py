"""The venue's JSON, in Alpaca's field names: orders, positions, account, assets, events.

Kept apart from the Alpaca adapter's schemas on purpose, so the two check each other.
Decimals are strings and times RFC 3339 UTC, as Alpaca writes them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.sim.core.orders import SimEvent, SimOrder, decimal_text
from brokers.sim.core.sessions import SESSION_CLOSE, SESSION_OPEN

if TYPE_CHECKING:
    from collections.abc import Sequence

    from brokers.sim.core.assets import SimAsset
    from brokers.sim.core.ledger import AccountFigures, SimPosition

ZERO = Decimal(0)
PLPC_QUANTUM = Decimal("0.0000000001")

JSON = dict[str, Any]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _opt_time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def _opt_decimal(value: Decimal | None) -> str | None:
    return decimal_text(value) if value is not None else None


def order_json(order: SimOrder, legs: Sequence[SimOrder] | None = None) -> JSON:
    """An order as GET /v2/orders/{id} returns it; ``legs`` nested under a parent."""
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": rfc3339(order.created_at),
        "updated_at": rfc3339(order.updated_at),
        "submitted_at": rfc3339(order.created_at),
        "filled_at": _opt_time(order.filled_at),
        "expired_at": _opt_time(order.expired_at),
        "expires_at": None,
        "canceled_at": _opt_time(order.canceled_at),
        "failed_at": _opt_time(order.failed_at),
        "replaced_at": _opt_time(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": "us_equity",
        # A notional order states its size in dollars only, as Alpaca reports it.
        "notional": _opt_decimal(order.notional),
        "qty": None if order.notional is not None else decimal_text(order.qty),
        "filled_qty": decimal_text(order.filled_qty),
        "filled_avg_price": _opt_decimal(order.filled_avg_price),
        # Alpaca reports an oco's and a bracket's legs with the class of their parent.
        "order_class": order.order_class,
        "order_type": order.type.value,
        "type": order.type.value,
        "side": order.side.value,
        "position_intent": None,
        "time_in_force": order.time_in_force.value,
        "limit_price": _opt_decimal(order.limit_price),
        "stop_price": _opt_decimal(order.stop_price),
        "status": order.status,
        "extended_hours": order.extended_hours,
        "legs": [order_json(leg) for leg in legs] if legs else None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


def event_json(event: SimEvent) -> JSON:
    """A ``trade_updates`` message; fills carry price, qty and position_qty."""
    data: JSON = {
        "event": event.event,
        "execution_id": event.execution_id,
        "order": order_json(event.order, event.legs),
        "timestamp": rfc3339(event.timestamp),
    }
    if event.price is not None:
        data["price"] = decimal_text(event.price)
    if event.qty is not None:
        data["qty"] = decimal_text(event.qty)
    if event.position_qty is not None:
        data["position_qty"] = decimal_text(event.position_qty)
    return {"stream": "trade_updates", "data": data}


def position_json(position: SimPosition, asset: SimAsset, price: Decimal, held: Decimal) -> JSON:
    """A position; ``held`` is the quantity open orders are about to take off it."""
    market_value = position.qty * price
    cost_basis = position.qty * position.avg_entry_price
    unrealized = market_value - cost_basis
    plpc = (unrealized / abs(cost_basis)).quantize(PLPC_QUANTUM) if cost_basis else ZERO
    return {
        "asset_id": asset.id,
        "symbol": position.symbol,
        "exchange": asset.exchange,
        "asset_class": "us_equity",
        "asset_marginable": True,
        "qty": decimal_text(position.qty),
        "qty_available": decimal_text(position.qty - held * (1 if position.qty > 0 else -1)),
        "avg_entry_price": decimal_text(position.avg_entry_price),
        "side": "long" if position.qty > 0 else "short",
        "market_value": decimal_text(market_value),
        "cost_basis": decimal_text(cost_basis),
        "unrealized_pl": decimal_text(unrealized),
        "unrealized_plpc": decimal_text(plpc),
        "unrealized_intraday_pl": decimal_text(unrealized),
        "unrealized_intraday_plpc": decimal_text(plpc),
        "current_price": decimal_text(price),
        "lastday_price": decimal_text(price),
        "change_today": "0",
    }


def account_json(
    figures: AccountFigures, *, account_id: str, created_at: datetime, last_equity: Decimal
) -> JSON:
    bp = decimal_text(figures.buying_power)
    return {
        "id": account_id,
        "account_number": "PA" + account_id.replace("-", "")[:10].upper(),
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "cash": decimal_text(figures.cash),
        "portfolio_value": decimal_text(figures.equity),
        "equity": decimal_text(figures.equity),
        "last_equity": decimal_text(last_equity),
        "long_market_value": decimal_text(figures.long_market_value),
        "short_market_value": decimal_text(figures.short_market_value),
        "position_market_value": decimal_text(
            figures.long_market_value - figures.short_market_value
        ),
        "buying_power": bp,
        "regt_buying_power": bp,
        "daytrading_buying_power": bp,
        "effective_buying_power": bp,
        "non_marginable_buying_power": bp,
        "initial_margin": "0",
        "maintenance_margin": "0",
        "sma": "0",
        "multiplier": "1",
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": True,
        "daytrade_count": 0,
        "created_at": rfc3339(created_at),
    }


def asset_json(asset: SimAsset) -> JSON:
    return {
        "id": asset.id,
        "class": "us_equity",
        "exchange": asset.exchange,
        "symbol": asset.symbol,
        "name": asset.name,
        "status": "active",
        "tradable": asset.tradable,
        "marginable": True,
        "maintenance_margin_requirement": 30,
        "shortable": asset.shortable,
        "easy_to_borrow": asset.shortable,
        "fractionable": asset.fractionable,
        "attributes": [],
        "min_order_size": decimal_text(asset.min_order_size),
        "min_trade_increment": decimal_text(asset.min_trade_increment),
        "price_increment": decimal_text(asset.price_increment),
    }


def calendar_json(days: Sequence[date]) -> list[JSON]:
    """Trading days as GET /v2/calendar lists them (regular session, New York times)."""
    return [
        {
            "date": day.isoformat(),
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": (day + timedelta(days=1)).isoformat(),
        }
        for day in days
    ]


def clock_json(now: datetime) -> JSON:
    """The venue is always open; next_close is the end of today's session (or tomorrow's)."""
    today = now.astimezone(UTC).date()
    close = datetime.combine(today, SESSION_CLOSE)
    if close <= now:
        close += timedelta(days=1)
    next_open = datetime.combine(today + timedelta(days=1), SESSION_OPEN)
    return {
        "timestamp": rfc3339(now),
        "is_open": True,
        "next_open": rfc3339(next_open),
        "next_close": rfc3339(close),
    }
