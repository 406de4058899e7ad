"""The journal's reads behind ``tradingd trades`` (fills, their orders, and positions, from
one snapshot so the fills and the positions they built always agree) and the metrics
page's drift count."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

import msgspec

from brokers.base import OrderType, Side
from daemon.trades import OrderKind, RoundTrip, TradeFill, openings_from, round_trips

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


def read_snapshot(path: str, query: Callable[[sqlite3.Connection], T]) -> T:
    """``query`` on a fresh read-only connection, inside one read transaction (a snapshot)."""
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")
        return query(conn)
    finally:
        conn.close()


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
    untyped = {f.client_order_id for f in fills} - {
        cid for cid, kind in kinds.items() if kind.order_type is not None
    }
    if untyped:
        for cid, order_type in read_venue_order_types(conn, untyped).items():
            kinds[cid] = OrderKind(
                leg=kinds[cid].leg if cid in kinds else None, order_type=order_type
            )
    return TradeHistory(fills=fills, kinds=kinds, positions=positions)


def read_venue_order_types(conn: sqlite3.Connection, wanted: set[str]) -> dict[str, OrderType]:
    """The types of orders whose ids the venue chose (a bracket's exit legs), as its answers
    in the venue-call log describe them: an order with its ``legs`` nested."""
    found: dict[str, OrderType] = {}
    rows = conn.execute(
        "SELECT response_body FROM venue_calls WHERE response_body LIKE '%\"legs\"%' ORDER BY seq"
    )
    for (body,) in rows:
        try:
            _collect_types(msgspec.json.decode(body), wanted, found)
        except msgspec.DecodeError:
            continue  # a truncated or non-JSON body says nothing
    return found


def _collect_types(value: object, wanted: set[str], found: dict[str, OrderType]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_types(item, wanted, found)
    elif isinstance(value, dict):
        cid, kind = value.get("client_order_id"), value.get("type")
        if cid in wanted and kind in _ORDER_TYPES:
            found[cid] = OrderType(kind)
        _collect_types(value.get("legs"), wanted, found)


_ORDER_TYPES = frozenset(t.value for t in OrderType)


def read_closed_trips(
    conn: sqlite3.Connection,
    symbol: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[RoundTrip]:
    """The latest ``limit`` trips that closed in [since, until), oldest first.

    Every trip is rebuilt from the symbol's first fill (an average entry price depends on
    all of them), so this runs apart from the writer and the loop (``Journal.read_apart``).
    """
    history = read_trade_history(conn, symbol)
    openings = openings_from(history.positions, history.fills)
    trips = [
        trip
        for trip in round_trips(history.fills, history.kinds, openings)
        if (since is None or trip.closed_at >= since) and (until is None or trip.closed_at < until)
    ]
    return trips[-limit:]


def read_drift_count(conn: sqlite3.Connection) -> int:
    """Rows in the Reconciler's drifts table (for the metrics page)."""
    return int(conn.execute("SELECT count(*) FROM drifts").fetchone()[0])
