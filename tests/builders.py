"""Small builders for domain objects, so tests state only what matters to them."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import trio

from brokers.base import (
    Fill,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    VenueOrder,
)

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def unread_replies() -> trio.MemorySendChannel[Any]:
    """A reply channel nobody reads: a pure core only carries it in the effects it returns."""
    send, _receive = trio.open_memory_channel[Any](math.inf)
    return send


def request(
    cid: str = "td-1-entry",
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    qty: str = "10",
    order_type: OrderType = OrderType.MARKET,
    limit_price: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        order_type=order_type,
        limit_price=Decimal(limit_price) if limit_price else None,
    )


def venue_order(
    req: OrderRequest,
    status: OrderStatus = OrderStatus.NEW,
    filled: str = "0",
    avg: str | None = None,
    venue_id: str = "v-1",
) -> VenueOrder:
    return VenueOrder(
        venue_order_id=venue_id,
        client_order_id=req.client_order_id,
        symbol=req.symbol,
        side=req.side,
        qty=req.qty,
        filled_qty=Decimal(filled),
        filled_avg_price=Decimal(avg) if avg else None,
        status=status,
        order_type=req.order_type,
        time_in_force=TimeInForce.DAY,
        limit_price=req.limit_price,
        submitted_at=T0,
        updated_at=T0,
    )


def update(
    req: OrderRequest,
    event: OrderEvent,
    status: OrderStatus,
    filled: str = "0",
    avg: str | None = None,
    fill: tuple[str, str, str] | None = None,
    venue_id: str = "v-1",
) -> OrderUpdate:
    """``fill`` is (execution_id, qty, price) of the fill this event reports."""
    return OrderUpdate(
        event=event,
        order=venue_order(req, status, filled, avg, venue_id),
        at=T0,
        fill=Fill(execution_id=fill[0], qty=Decimal(fill[1]), price=Decimal(fill[2]), at=T0)
        if fill
        else None,
    )
