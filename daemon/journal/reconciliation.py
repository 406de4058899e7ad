"""Reads of the Reconciler's tables: drift records and the correction queue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from daemon.journal.rows import Row

if TYPE_CHECKING:
    import sqlite3


class DriftRow(Row, frozen=True, kw_only=True):
    id: int
    at: datetime
    symbol: str
    journal_qty: Decimal
    venue_qty: Decimal
    notional: Decimal | None
    cause: str
    detail: str
    found_by: str


class CorrectionRow(Row, frozen=True, kw_only=True):
    id: int
    at: datetime  # when it was proposed
    drift_id: int
    symbol: str
    cause: str
    remedy: str
    journal_qty: Decimal
    venue_qty: Decimal
    target_qty: Decimal
    notional: Decimal | None
    status: str
    updated_at: datetime
    signal_id: str | None
    detail: str | None


class ReconciliationIds(Row, frozen=True, kw_only=True):
    """The highest ids used so far: the Reconciler numbers on from here."""

    drift: int
    correction: int


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


_DRIFT_COLUMNS = "id, at, symbol, journal_qty, venue_qty, notional, cause, detail, found_by"
_CORRECTION_COLUMNS = (
    "id, at, drift_id, symbol, cause, remedy, journal_qty, venue_qty, target_qty, notional, "
    "status, updated_at, signal_id, detail"
)


def _drift(row: Any) -> DriftRow:
    did, at, symbol, ours, venue, notional, cause, detail, found_by = row
    return DriftRow(
        id=did,
        at=datetime.fromisoformat(at),
        symbol=symbol,
        journal_qty=Decimal(ours),
        venue_qty=Decimal(venue),
        notional=_dec(notional),
        cause=cause,
        detail=detail,
        found_by=found_by,
    )


def _correction(row: Any) -> CorrectionRow:
    (cid, at, did, symbol, cause, remedy, ours, venue, target, notional) = row[:10]
    status, updated, signal_id, detail = row[10:]
    return CorrectionRow(
        id=cid,
        at=datetime.fromisoformat(at),
        drift_id=did,
        symbol=symbol,
        cause=cause,
        remedy=remedy,
        journal_qty=Decimal(ours),
        venue_qty=Decimal(venue),
        target_qty=Decimal(target),
        notional=_dec(notional),
        status=status,
        updated_at=datetime.fromisoformat(updated),
        signal_id=signal_id,
        detail=detail,
    )


def read_drifts(conn: sqlite3.Connection, limit: int) -> list[DriftRow]:
    """The latest ``limit`` drift records, oldest first."""
    rows = conn.execute(
        f"SELECT {_DRIFT_COLUMNS} FROM (SELECT * FROM drifts ORDER BY id DESC LIMIT ?) ORDER BY id",
        (limit,),
    )
    return [_drift(row) for row in rows]


def read_corrections(
    conn: sqlite3.Connection, status: str | None, limit: int
) -> list[CorrectionRow]:
    """The latest ``limit`` corrections (in ``status``, when given), oldest first."""
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = conn.execute(
        f"SELECT {_CORRECTION_COLUMNS} FROM "
        f"(SELECT * FROM corrections {where} ORDER BY id DESC LIMIT ?) ORDER BY id",
        (*params, limit),
    )
    return [_correction(row) for row in rows]


def read_reconciliation_ids(conn: sqlite3.Connection) -> ReconciliationIds:
    drift = conn.execute("SELECT coalesce(max(id), 0) FROM drifts").fetchone()[0]
    correction = conn.execute("SELECT coalesce(max(id), 0) FROM corrections").fetchone()[0]
    return ReconciliationIds(drift=int(drift), correction=int(correction))


def read_filled_by_order(
    conn: sqlite3.Connection, client_order_ids: list[str]
) -> dict[str, Decimal]:
    """The filled quantity tradingd counted for each of these orders (absent: none)."""
    counted: dict[str, Decimal] = {}
    for cid in client_order_ids:
        for (qty,) in conn.execute("SELECT qty FROM fills WHERE client_order_id = ?", (cid,)):
            counted[cid] = counted.get(cid, Decimal(0)) + Decimal(qty)
    return counted
