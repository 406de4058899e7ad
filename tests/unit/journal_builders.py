"""Record builders for the journal tests: each states only what its test cares about."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from actors.records import (
    FillRecorded,
    IntentRecorded,
    OrderStateRecorded,
    PositionRecorded,
    RiskDenied,
    SignalRecorded,
    VenueCallRecorded,
)
from brokers.base import Side, VenueCall
from tests.builders import T0, request


def at(seconds: float = 0) -> datetime:
    return T0 + timedelta(seconds=seconds)


def signal(signal_id: str, status: str = "accepted", seconds: float = 0) -> SignalRecorded:
    return SignalRecorded(
        at=at(seconds),
        signal_id=signal_id,
        source="test",
        raw=f'{{"id":"{signal_id}"}}',
        status=status,
        reason=None if status == "accepted" else "because",
    )


def intent(
    cid: str, symbol: str = "AAPL", qty: str = "10", side: Side = Side.BUY
) -> IntentRecorded:
    signal_id, leg = cid.rsplit("-", 1)
    return IntentRecorded(
        at=at(),
        signal_id=signal_id,
        leg=leg,
        request=request(cid=cid, symbol=symbol, side=side, qty=qty),
    )


def state(
    cid: str,
    value: str,
    symbol: str = "AAPL",
    filled: str = "0",
    avg: str | None = None,
    venue_id: str | None = "v-1",
    seconds: float = 1,
) -> OrderStateRecorded:
    return OrderStateRecorded(
        at=at(seconds),
        client_order_id=cid,
        symbol=symbol,
        state=value,
        venue_order_id=venue_id,
        filled_qty=Decimal(filled),
        avg_fill_price=Decimal(avg) if avg else None,
        reason=None,
    )


def fill(cid: str, execution_id: str, qty: str, price: str, symbol: str = "AAPL") -> FillRecorded:
    return FillRecorded(
        at=at(2),
        client_order_id=cid,
        symbol=symbol,
        side=Side.BUY,
        execution_id=execution_id,
        qty=Decimal(qty),
        price=Decimal(price),
    )


def position(symbol: str, qty: str, avg: str, pnl: str = "0") -> PositionRecorded:
    return PositionRecorded(
        at=at(3),
        symbol=symbol,
        qty=Decimal(qty),
        avg_entry_price=Decimal(avg),
        realized_pnl=Decimal(pnl),
    )


def denial(cid: str, symbol: str = "AAPL") -> RiskDenied:
    return RiskDenied(
        at=at(), client_order_id=cid, symbol=symbol, code="max_notional", detail="too big"
    )


def call(
    path: str,
    method: str = "GET",
    request_body: str | None = None,
    response_body: str | None = None,
    seconds: float = 0,
    symbol: str | None = None,
) -> VenueCallRecorded:
    made = VenueCall(
        method=method,
        path=path,
        status=200,
        latency_s=0.004,
        at=at(seconds),
        symbol=symbol,
        request_body=request_body,
        response_body=response_body,
    )
    return VenueCallRecorded(at=made.at, call=made)
