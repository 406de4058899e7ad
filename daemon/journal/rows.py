"""What the journal's reads return, and the queries behind them.

Each query is a plain function of a ``sqlite3.Connection``, run on the journal's thread.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast, get_args

import msgspec

from actors.records import (
    ProtectionMode,
    ProtectionPhase,
    ProtectionRecorded,
    RiskStateRecorded,
    RunawayCause,
)
from brokers.base import OrderRequest, Side
from daemon.journal.schema import FINAL_STATES

if TYPE_CHECKING:
    import sqlite3


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the read results: immutable, keyword-only."""


class OrderRow(Row, frozen=True, kw_only=True):
    """One order and its latest state. Intent fields are None when no intent was recorded
    (an order refused by risk before an intent, or one adopted from the venue)."""

    client_order_id: str
    signal_id: str | None
    leg: str | None
    symbol: str
    side: Side | None
    qty: Decimal | None
    state: str
    venue_order_id: str | None
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    reason: str | None
    # Why it ended denied or rejected: RiskGuard's reason code (or the executor's
    # OrderFailure) and its detail; None for every other order.
    code: str | None
    detail: str | None
    created_at: datetime
    updated_at: datetime


class PositionRow(Row, frozen=True, kw_only=True):
    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    updated_at: datetime


class FillRow(Row, frozen=True, kw_only=True):
    execution_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    at: datetime


class AuditRow(Row, frozen=True, kw_only=True):
    """One venue call. ``symbol`` is the instrument the call was about, when it names one."""

    at: datetime
    method: str
    path: str
    symbol: str | None
    status: int | None
    latency_s: float
    request_body: str | None
    response_body: str | None
    error: str | None


def timestamp(value: datetime) -> str:
    """A datetime as the journal stores it; a naive one is a bug, never guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be journaled")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


_FINAL_PARAMS = ", ".join("?" * len(FINAL_STATES))
_ORDER_COLUMNS = (
    "client_order_id, signal_id, leg, symbol, side, qty, state, venue_order_id, "
    "filled_qty, avg_fill_price, reason, code, detail, created_at, updated_at"
)


def _order(row: Any) -> OrderRow:
    (cid, signal_id, leg, symbol, side, qty, state, venue_id, filled, avg, reason, *why) = row
    code, detail, c, u = why
    return OrderRow(
        client_order_id=cid,
        signal_id=signal_id,
        leg=leg,
        symbol=symbol,
        side=None if side is None else Side(side),
        qty=_dec(qty),
        state=state,
        venue_order_id=venue_id,
        filled_qty=Decimal(filled),
        avg_fill_price=_dec(avg),
        reason=reason,
        code=code,
        detail=detail,
        created_at=_dt(c),
        updated_at=_dt(u),
    )


def read_accepted_signal_ids(conn: sqlite3.Connection) -> set[str]:
    """Signals acked accepted, signals with an order (one whose ack a crash lost), and
    quarantined signals (a failure may have come before their ack)."""
    rows = conn.execute(
        "SELECT signal_id FROM signals WHERE status = 'accepted' AND signal_id NOT NULL "
        "UNION SELECT signal_id FROM orders WHERE signal_id NOT NULL "
        "UNION SELECT signal_id FROM signals_failed"
    )
    return {str(signal_id) for (signal_id,) in rows}


def read_orders(conn: sqlite3.Connection) -> list[OrderRow]:
    rows = conn.execute(f"SELECT {_ORDER_COLUMNS} FROM orders ORDER BY seq")
    return [_order(row) for row in rows]


def read_unresolved_orders(conn: sqlite3.Connection) -> list[OrderRow]:
    rows = conn.execute(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE state NOT IN ({_FINAL_PARAMS}) ORDER BY seq",
        FINAL_STATES,
    )
    return [_order(row) for row in rows]


class IntentRow(Row, frozen=True, kw_only=True):
    """An order tradingd meant to send, not yet seen final: what startup must resolve."""

    request: OrderRequest
    state: str
    created_at: datetime


_request_decoder = msgspec.json.Decoder(OrderRequest)


def read_unresolved_intents(conn: sqlite3.Connection) -> list[IntentRow]:
    rows = conn.execute(
        "SELECT request, state, created_at FROM orders "
        f"WHERE request IS NOT NULL AND state NOT IN ({_FINAL_PARAMS}) ORDER BY seq",
        FINAL_STATES,
    )
    return [
        IntentRow(request=_request_decoder.decode(body), state=state, created_at=_dt(created))
        for body, state, created in rows
    ]


class FlatLegRow(Row, frozen=True, kw_only=True):
    """The flat leg of an order across zero with no open leg journaled after it."""

    request: OrderRequest
    signal_raw: str  # the signal as acked
    created_at: datetime


def read_flat_legs_without_open(conn: sqlite3.Connection, since: datetime) -> list[FlatLegRow]:
    """Flat legs journaled at or after ``since`` whose signal has no open leg and was not
    stopped on purpose: a restart came between the two legs."""
    rows = conn.execute(
        "SELECT o.request, o.created_at, "
        "(SELECT s.raw FROM signals s WHERE s.signal_id = o.signal_id "
        "AND s.status = 'accepted' ORDER BY s.seq LIMIT 1) "
        "FROM orders o WHERE o.leg = 'flat' AND o.request IS NOT NULL AND o.created_at >= ? "
        "AND NOT EXISTS (SELECT 1 FROM orders p WHERE p.signal_id = o.signal_id "
        "AND p.leg = 'open') "
        # Stopped on purpose (not flat, halted, the open leg denied): nothing to resume.
        "AND NOT EXISTS (SELECT 1 FROM signals s WHERE s.signal_id = o.signal_id "
        "AND s.status = 'incomplete') "
        # Quarantined: its handling raised; resuming it would run it again.
        "AND NOT EXISTS (SELECT 1 FROM signals_failed q WHERE q.signal_id = o.signal_id) "
        "ORDER BY o.seq",
        (timestamp(since),),
    )
    return [
        FlatLegRow(request=_request_decoder.decode(body), signal_raw=raw, created_at=_dt(created))
        for body, created, raw in rows
        if raw is not None
    ]


def read_open_protections(conn: sqlite3.Connection) -> list[ProtectionRecorded]:
    """Exits that guarded a position when the last run ended: re-armed at startup."""
    rows = conn.execute(
        "SELECT entry_client_order_id, symbol, mode, signal_id, exit_side, qty, take_profit, "
        "stop_loss, exits, generation, state, updated_at FROM protections "
        "WHERE phase = ? ORDER BY symbol",
        (ProtectionPhase.ARMED.value,),
    )
    return [
        ProtectionRecorded(
            at=_dt(updated),
            entry_client_order_id=cid,
            symbol=symbol,
            mode=ProtectionMode(mode),
            signal_id=signal_id,
            exit_side=Side(side),
            qty=Decimal(qty),
            take_profit=_dec(take_profit),
            stop_loss=_dec(stop_loss),
            exits=tuple(exits.split(",")) if exits else (),
            generation=generation,
            phase=ProtectionPhase.ARMED,
            state=state,
        )
        for (
            cid,
            symbol,
            mode,
            signal_id,
            side,
            qty,
            take_profit,
            stop_loss,
            exits,
            generation,
            state,
            updated,
        ) in rows
    ]


def read_positions(conn: sqlite3.Connection) -> dict[str, PositionRow]:
    rows = conn.execute(
        "SELECT symbol, qty, avg_entry_price, realized_pnl, updated_at FROM positions "
        "ORDER BY symbol"
    )
    return {
        symbol: PositionRow(
            symbol=symbol,
            qty=Decimal(qty),
            avg_entry_price=Decimal(avg),
            realized_pnl=Decimal(pnl),
            updated_at=_dt(updated),
        )
        for symbol, qty, avg, pnl, updated in rows
    }


def read_fills(conn: sqlite3.Connection, client_order_id: str | None) -> list[FillRow]:
    sql = "SELECT execution_id, client_order_id, symbol, side, qty, price, at FROM fills"
    params: tuple[str, ...] = ()
    if client_order_id is not None:
        sql += " WHERE client_order_id = ?"
        params = (client_order_id,)
    rows = conn.execute(sql + " ORDER BY seq", params)
    return [
        FillRow(
            execution_id=eid,
            client_order_id=cid,
            symbol=symbol,
            side=Side(side),
            qty=Decimal(qty),
            price=Decimal(price),
            at=_dt(at),
        )
        for eid, cid, symbol, side, qty, price, at in rows
    ]


def read_audit(
    conn: sqlite3.Connection,
    symbol: str | None,
    since: datetime | None,
    limit: int,
    until: datetime | None = None,
) -> list[AuditRow]:
    """The latest ``limit`` calls matching the filters, oldest first."""
    where: list[str] = []
    params: list[object] = []
    if symbol is not None:
        where.append("symbol = ?")
        params.append(symbol)
    if since is not None:
        where.append("at >= ?")
        params.append(timestamp(since))
    if until is not None:
        where.append("at < ?")
        params.append(timestamp(until))
    sql = (
        "SELECT at, method, path, symbol, status, latency_s, request_body, response_body, error "
        "FROM venue_calls"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ?"
    params.append(max(0, limit))
    rows = conn.execute(sql, params).fetchall()
    return [
        AuditRow(
            at=_dt(at),
            method=method,
            path=path,
            symbol=sym,
            status=status,
            latency_s=latency,
            request_body=request_body,
            response_body=response_body,
            error=error,
        )
        for at, method, path, sym, status, latency, request_body, response_body, error in reversed(
            rows
        )
    ]


def read_risk_state(conn: sqlite3.Connection) -> RiskStateRecorded | None:
    """RiskGuard's persisted halt, latch and trading day (None before the first write)."""
    row = conn.execute(
        "SELECT halted, latched, trading_day, start_equity, updated_at, runaway FROM risk_state"
    ).fetchone()
    if row is None:
        return None
    halted, latched, day, start_equity, updated_at, runaway = row
    return RiskStateRecorded(
        at=_dt(updated_at),
        halted=bool(halted),
        latched=latched,
        trading_day=None if day is None else date.fromisoformat(day),
        start_equity=_dec(start_equity),
        runaway=_runaway_cause(runaway),
    )


def _runaway_cause(value: str | None) -> RunawayCause | None:
    """The breaker's latch as written; a cause this version does not know still latches."""
    if value is None:
        return None
    for cause in get_args(RunawayCause):
        if value == cause:
            return cast("RunawayCause", cause)
    return "backlog"


# Tables whose rows are appended in time order: the last row of each is its newest.
_TIMED_TABLES = ("signals", "order_states", "fills", "venue_calls")


def read_last_record_at(conn: sqlite3.Connection) -> datetime | None:
    """When the journal last recorded anything (None: never)."""
    times = []
    for table in _TIMED_TABLES:
        row = conn.execute(f"SELECT at FROM {table} ORDER BY seq DESC LIMIT 1").fetchone()
        if row is not None:
            times.append(_dt(row[0]))
    return max(times, default=None)


def read_known_order_ids(conn: sqlite3.Connection, client_order_ids: list[str]) -> set[str]:
    """Which of ``client_order_ids`` the journal has an order row for."""
    known: set[str] = set()
    chunk = 500  # well under SQLite's bound on host parameters
    for start in range(0, len(client_order_ids), chunk):
        ids = client_order_ids[start : start + chunk]
        marks = ", ".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT client_order_id FROM orders WHERE client_order_id IN ({marks})", ids
        )
        known.update(cid for (cid,) in rows)
    return known
