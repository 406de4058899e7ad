"""The journal's tables, and the migrations that bring any older file up to date.

``PRAGMA user_version`` counts the migrations applied; ``MIGRATIONS[n]`` takes a journal
from version ``n`` to ``n + 1``. Migrations only ever add: a released one is never edited.
``PRAGMA application_id`` marks the file as a tradingd journal, so pointing the daemon at
some other SQLite database fails instead of adding tables to it.

Decimals are TEXT (exact, ``str(Decimal)``); datetimes are ISO-8601 UTC TEXT with
microseconds, so they sort as text in time order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

# "trad" in ASCII.
APPLICATION_ID = 0x74726164

# Order states after which nothing more happens to an order (OrderStateRecorded.state).
FINAL_STATES = ("filled", "canceled", "expired", "rejected", "replaced", "denied")

_FINAL_SQL = ", ".join(f"'{state}'" for state in FINAL_STATES)

_V1 = f"""
-- Every input line and its ack. A signal id acked "accepted" never trades again.
CREATE TABLE signals (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    signal_id  TEXT,
    source     TEXT NOT NULL,
    raw        TEXT NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT
);
CREATE INDEX signals_accepted ON signals (signal_id) WHERE status = 'accepted';

-- One row per order: its intent and its latest state.
CREATE TABLE orders (
    seq             INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL UNIQUE,
    signal_id       TEXT,
    leg             TEXT,
    symbol          TEXT NOT NULL,
    side            TEXT,
    qty             TEXT,
    request         TEXT,
    state           TEXT NOT NULL,
    venue_order_id  TEXT,
    filled_qty      TEXT NOT NULL DEFAULT '0',
    avg_fill_price  TEXT,
    reason          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX orders_unresolved ON orders (seq) WHERE state NOT IN ({_FINAL_SQL});

-- Every transition, in order: the history behind orders.state.
CREATE TABLE order_states (
    seq             INTEGER PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    at              TEXT NOT NULL,
    state           TEXT NOT NULL,
    venue_order_id  TEXT,
    filled_qty      TEXT NOT NULL,
    avg_fill_price  TEXT,
    reason          TEXT
);
CREATE INDEX order_states_by_order ON order_states (client_order_id, seq);

-- Confirmed executions; the venue's execution id makes a replayed fill a no-op.
CREATE TABLE fills (
    seq             INTEGER PRIMARY KEY,
    execution_id    TEXT NOT NULL UNIQUE,
    client_order_id TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    qty             TEXT NOT NULL,
    price           TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX fills_by_order ON fills (client_order_id, seq);

-- The latest confirmed position per symbol, and every change to it.
CREATE TABLE positions (
    symbol          TEXT PRIMARY KEY,
    qty             TEXT NOT NULL,
    avg_entry_price TEXT NOT NULL,
    realized_pnl    TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE TABLE position_history (
    seq             INTEGER PRIMARY KEY,
    symbol          TEXT NOT NULL,
    qty             TEXT NOT NULL,
    avg_entry_price TEXT NOT NULL,
    realized_pnl    TEXT NOT NULL,
    at              TEXT NOT NULL
);

CREATE TABLE risk_denials (
    seq             INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    code            TEXT NOT NULL,
    detail          TEXT NOT NULL
);

-- Every venue call (bodies arrive with secrets already removed).
CREATE TABLE venue_calls (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    symbol        TEXT,
    status        INTEGER,
    latency_s     REAL NOT NULL,
    request_body  TEXT,
    response_body TEXT,
    error         TEXT
);
CREATE INDEX venue_calls_by_time ON venue_calls (at);
CREATE INDEX venue_calls_by_symbol ON venue_calls (symbol, seq);

-- Small facts about the journal itself; a flush with nothing new to write updates a
-- counter here, which forces the sync that makes earlier unsynced batches durable.
CREATE TABLE journal_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

# Version 2 is assembled from one block per owner, so each block can be read on its own.

# RiskGuard's latch and trading-day facts, which must survive a restart.
_V2_RISK = """
-- One row: the latest state; the halt and the latch hold until `tradingd resume`.
CREATE TABLE risk_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    halted       INTEGER NOT NULL,
    latched      TEXT,
    trading_day  TEXT,
    start_equity TEXT,
    updated_at   TEXT NOT NULL
);
"""

# The Reconciler's drift records and its queue of corrections.
_V2_RECONCILIATION = """
CREATE TABLE drifts (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    journal_qty  TEXT NOT NULL,
    venue_qty    TEXT NOT NULL,
    notional     TEXT,
    cause        TEXT NOT NULL,
    detail       TEXT NOT NULL,
    found_by     TEXT NOT NULL
);
-- One row per correction, rewritten at each change of status; ids are the Reconciler's.
CREATE TABLE corrections (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    drift_id    INTEGER NOT NULL,
    symbol      TEXT NOT NULL,
    cause       TEXT NOT NULL,
    remedy      TEXT NOT NULL,
    journal_qty TEXT NOT NULL,
    venue_qty   TEXT NOT NULL,
    target_qty  TEXT NOT NULL,
    notional    TEXT,
    status      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    signal_id   TEXT,
    detail      TEXT
);
CREATE INDEX corrections_queued ON corrections (id) WHERE status = 'queued';
"""

# Each protected entry's exit levels and how they are held (native legs or emulated by
# the executor), so a restart re-arms them.
_V2_PROTECTION = """
CREATE TABLE protections (
    entry_client_order_id TEXT PRIMARY KEY,
    symbol                TEXT NOT NULL,
    mode                  TEXT NOT NULL,
    signal_id             TEXT NOT NULL,
    exit_side             TEXT NOT NULL,
    qty                   TEXT NOT NULL,
    take_profit           TEXT,
    stop_loss             TEXT,
    exits                 TEXT NOT NULL,
    generation            INTEGER NOT NULL,
    state                 TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
"""

# Which accepted signals have done their work, so a restart hands the others to their
# executors again: a signal acked "accepted" while queued has no order yet, and without
# this a kill -9 before it started would lose it (its id alone makes a resend a duplicate).
_V2_SIGNALS = """
-- One row per signal whose work ended: orders final, no order needed, denied, superseded.
CREATE TABLE signals_finished (
    signal_id TEXT PRIMARY KEY,
    at        TEXT NOT NULL,
    reason    TEXT NOT NULL
);
-- A signal's orders, looked up when one of them ends and at startup.
CREATE INDEX orders_by_signal ON orders (signal_id) WHERE signal_id IS NOT NULL;
-- An older journal never recorded this: every signal it accepted counts as done, so an
-- upgrade never replays history.
INSERT INTO signals_finished (signal_id, at, reason)
SELECT signal_id, min(at), 'accepted before finished signals were recorded'
FROM signals WHERE status = 'accepted' AND signal_id IS NOT NULL GROUP BY signal_id;
"""

_V2 = _V2_RISK + _V2_RECONCILIATION + _V2_PROTECTION + _V2_SIGNALS

# Signals whose handling raised (quarantined): never replayed at startup, their ids spent.
# A row stays after an operator clears it (``resolved_at``), as the record of what happened.
_V3 = """
CREATE TABLE signals_failed (
    signal_id   TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    stage       TEXT NOT NULL,
    error_type  TEXT NOT NULL,
    error       TEXT NOT NULL,
    raw         TEXT,
    resolved_at TEXT
);
"""

# A protection's phase as a column of its own, so a restart re-arms by a typed value rather
# than by reading the operator's text. Rows an older tradingd wrote are classified once, by
# the text it wrote then ("armed…" while guarding, the one waiting line, anything else ended).
_V4 = """
ALTER TABLE protections ADD COLUMN phase TEXT NOT NULL DEFAULT 'ended';
UPDATE protections SET phase = 'armed' WHERE state LIKE 'armed%';
UPDATE protections SET phase = 'waiting' WHERE state = 'waiting for the entries still working';
CREATE INDEX protections_armed ON protections (symbol) WHERE phase = 'armed';
"""

# The runaway breaker's latch beside the halt and the daily-loss one: what tripped it
# (NULL: not tripped), held until `tradingd resume`.
_V5 = """
ALTER TABLE risk_state ADD COLUMN runaway TEXT;
"""

# Why an order ended denied or rejected, as its own columns: the code (RiskGuard's reason
# code, or the executor's OrderFailure) and the detail. Rows an older tradingd wrote get
# them once: denials from risk_denials (by client order id), rejections from the text it
# wrote then.
_V6 = """
ALTER TABLE orders ADD COLUMN code TEXT;
ALTER TABLE orders ADD COLUMN detail TEXT;
UPDATE orders SET
    code = (SELECT d.code FROM risk_denials d WHERE d.client_order_id = orders.client_order_id
            ORDER BY d.seq DESC LIMIT 1),
    detail = (SELECT d.detail FROM risk_denials d
              WHERE d.client_order_id = orders.client_order_id ORDER BY d.seq DESC LIMIT 1)
WHERE state = 'denied';
UPDATE orders SET code = 'not_sent', detail = reason
WHERE state = 'rejected' AND reason LIKE 'not sent after retries%';
UPDATE orders SET code = 'venue_rejected', detail = coalesce(reason, 'the venue rejected the order')
WHERE state = 'rejected' AND code IS NULL;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)


class SchemaError(Exception):
    """The file is not a journal this version of tradingd can use."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date, one transaction per step; returns the version."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id not in (0, APPLICATION_ID):
        raise SchemaError(f"not a tradingd journal (application_id {app_id:#x})")
    if app_id == 0 and version != 0:
        raise SchemaError("not a tradingd journal (a database of some other program)")
    if version > len(MIGRATIONS):
        raise SchemaError(
            f"journal schema version {version} is newer than this tradingd "
            f"(knows up to {len(MIGRATIONS)})"
        )
    if app_id == 0 and _has_tables(conn):
        raise SchemaError("not a tradingd journal (the database already has tables)")
    for step in range(version, len(MIGRATIONS)):
        # executescript would commit on its own; run each statement inside one transaction
        # so a crash mid-migration leaves the previous version intact.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def _has_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()
    return bool(row[0])


def _statements(script: str) -> list[str]:
    """Split a script of complete statements (no ';' inside literals in ours)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
