"""The journal's reads behind ``tradingd trades`` (fills, their orders, and positions, from
one snapshot so the fills and the positions they built always agree) and the metrics
page's drift count."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal

import msgspec

from brokers.base import OrderType, Side
from daemon.trades import OrderKind, TradeFill


class TradeHistory(msgspec.Struct, frozen=True, kw_only=True):
    fills: list[TradeFill]
    kinds: dict[str, OrderKind]  # client_order_id -> what the journal knows of the order
    positions: dict[str, Decimal]  # symbol -> confirmed quantity now


class _RequestType(msgspec.Struct):
    """Only the order type of a journaled request (the other fields are skipped)."""

    order_type: OrderType = OrderType.MARKET


_request_type = msgspec.json.Decoder(_RequestType)


def read_trade_history(conn: sqlite3.Connection, symbol: str | None) -> TradeHistory:
    where, params = ("WHERE symbol = ?", (symbol,)) if symbol is not None else ("", ())
    fills = [
        TradeFill(
            client_order_id=cid,
            symbol=sym,
            side=Side(side),
            qty=Decimal(qty),
            price=Decimal(price),
            at=datetime.fromisoformat(at),
        )
        for cid, sym, side, qty, price, at in conn.execute(
            f"SELECT client_order_id, symbol, side, qty, price, at FROM fills {where} ORDER BY seq",
            params,
        )
    ]
    kinds = {
        cid: OrderKind(
            leg=leg,
            order_type=None if request is None else _request_type.decode(request).order_type,
        )
        for cid, leg, request in conn.execute(
            "SELECT client_order_id, leg, request FROM orders WHERE client_order_id IN "
            f"(SELECT client_order_id FROM fills {where})",
            params,
        )
    }
    positions = {
        sym: Decimal(qty)
        for sym, qty in conn.execute(f"SELECT symbol, qty FROM positions {where}", params)
    }
    return TradeHistory(fills=fills, kinds=kinds, positions=positions)


def read_drift_count(conn: sqlite3.Connection) -> int:
    """Rows in the Reconciler's drifts table (for the metrics page)."""
    return int(conn.execute("SELECT count(*) FROM drifts").fetchone()[0])
