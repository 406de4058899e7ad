"""How each record becomes rows: pure functions from a record to SQL statements.

Nothing here touches a connection; the journal's thread executes what these return, so
the mapping can be read (and tested) apart from the threading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

import msgspec

from actors.records import (
    CorrectionRecorded,
    DriftRecorded,
    FillRecorded,
    IntentRecorded,
    JournalRecord,
    OrderRefused,
    OrderStateRecorded,
    PositionRecorded,
    ProtectionRecorded,
    RiskDenied,
    RiskStateRecorded,
    SignalCleared,
    SignalFailed,
    SignalFinished,
    SignalRecorded,
    VenueCallRecorded,
)
from daemon.journal.rows import timestamp
from daemon.journal.schema import FINAL_STATES

if TYPE_CHECKING:
    from decimal import Decimal

Statement = tuple[str, tuple[object, ...]]

_INSERT_SIGNAL = (
    "INSERT INTO signals (at, signal_id, source, raw, status, reason) VALUES (?, ?, ?, ?, ?, ?)"
)
# A repeated intent (same client id) refreshes what was asked, never the state reached.
_UPSERT_INTENT = """
INSERT INTO orders (client_order_id, signal_id, leg, symbol, side, qty, request, state,
                    created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, 'intent', ?, ?)
ON CONFLICT (client_order_id) DO UPDATE SET
    signal_id = excluded.signal_id, leg = excluded.leg, side = excluded.side,
    qty = excluded.qty, request = excluded.request
"""
_UPSERT_STATE = """
INSERT INTO orders (client_order_id, symbol, state, venue_order_id, filled_qty,
                    avg_fill_price, reason, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (client_order_id) DO UPDATE SET
    state = excluded.state,
    venue_order_id = coalesce(excluded.venue_order_id, orders.venue_order_id),
    filled_qty = excluded.filled_qty, avg_fill_price = excluded.avg_fill_price,
    reason = excluded.reason, updated_at = excluded.updated_at
"""
# What a refused order was and why. Its state record came first, so the row exists; a denied
# order has no intent, and this is where its signal, leg, side and quantity come from.
_UPSERT_REFUSAL = """
INSERT INTO orders (client_order_id, signal_id, leg, symbol, side, qty, state, code, detail,
                    created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (client_order_id) DO UPDATE SET
    signal_id = coalesce(orders.signal_id, excluded.signal_id),
    leg = coalesce(orders.leg, excluded.leg), side = coalesce(orders.side, excluded.side),
    qty = coalesce(orders.qty, excluded.qty), code = excluded.code, detail = excluded.detail
"""
_INSERT_STATE = """
INSERT INTO order_states (client_order_id, at, state, venue_order_id, filled_qty,
                          avg_fill_price, reason)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_FINAL_SQL = ", ".join(f"'{state}'" for state in FINAL_STATES)
_INSERT_FINISHED = """
INSERT INTO signals_finished (signal_id, at, reason) VALUES (?, ?, ?)
ON CONFLICT (signal_id) DO NOTHING
"""
# The first failure of a signal is the one kept: a later one is usually its consequence.
_INSERT_FAILED = """
INSERT INTO signals_failed (signal_id, at, stage, error_type, error, raw)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (signal_id) DO NOTHING
"""
_RESOLVE_FAILED = """
UPDATE signals_failed SET resolved_at = ? WHERE signal_id = ? AND resolved_at IS NULL
"""
# An order ended: its signal is finished once none of its orders still works. This covers
# the orders adopted at startup, whose signal no executor job carries any more.
_FINISH_BY_ORDERS = f"""
INSERT INTO signals_finished (signal_id, at, reason)
SELECT o.signal_id, ?, 'its orders are final' FROM orders o
WHERE o.client_order_id = ? AND o.signal_id IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM orders w
    WHERE w.signal_id = o.signal_id AND w.state NOT IN ({_FINAL_SQL})
  )
ON CONFLICT (signal_id) DO NOTHING
"""
# The venue's execution id is unique: a fill seen twice (stream replay, REST snapshot) is kept once.
_INSERT_FILL = """
INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (execution_id) DO NOTHING
"""
_UPSERT_POSITION = """
INSERT INTO positions (symbol, qty, avg_entry_price, realized_pnl, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (symbol) DO UPDATE SET
    qty = excluded.qty, avg_entry_price = excluded.avg_entry_price,
    realized_pnl = excluded.realized_pnl, updated_at = excluded.updated_at
"""
_INSERT_POSITION_HISTORY = """
INSERT INTO position_history (symbol, qty, avg_entry_price, realized_pnl, at)
VALUES (?, ?, ?, ?, ?)
"""
_INSERT_DENIAL = """
INSERT INTO risk_denials (at, client_order_id, symbol, code, detail) VALUES (?, ?, ?, ?, ?)
"""
_UPSERT_RISK_STATE = """
INSERT INTO risk_state (id, halted, latched, trading_day, start_equity, updated_at, runaway)
VALUES (1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    halted = excluded.halted, latched = excluded.latched, trading_day = excluded.trading_day,
    start_equity = excluded.start_equity, updated_at = excluded.updated_at,
    runaway = excluded.runaway
"""

_UPSERT_PROTECTION = """
INSERT INTO protections (entry_client_order_id, symbol, mode, signal_id, exit_side, qty,
                         take_profit, stop_loss, exits, generation, phase, state, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (entry_client_order_id) DO UPDATE SET
    mode = excluded.mode, qty = excluded.qty, take_profit = excluded.take_profit,
    stop_loss = excluded.stop_loss, exits = excluded.exits, generation = excluded.generation,
    phase = excluded.phase, state = excluded.state, updated_at = excluded.updated_at
"""
_INSERT_CALL = """
INSERT INTO venue_calls (at, method, path, symbol, status, latency_s, request_body,
                         response_body, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_DRIFT = """
INSERT INTO drifts (id, at, symbol, journal_qty, venue_qty, notional, cause, detail, found_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# A correction keeps its first ``at``; everything else follows its latest status.
_UPSERT_CORRECTION = """
INSERT INTO corrections (id, at, drift_id, symbol, cause, remedy, journal_qty, venue_qty,
                         target_qty, notional, status, updated_at, signal_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, updated_at = excluded.updated_at,
    signal_id = coalesce(excluded.signal_id, corrections.signal_id), detail = excluded.detail
"""


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def statements_for(record: JournalRecord) -> list[Statement]:
    """The SQL that records one record; all of a batch's run in one transaction."""
    at = timestamp(record.at)
    match record:
        case SignalRecorded(signal_id=sid, source=source, raw=raw, status=status, reason=why):
            return [(_INSERT_SIGNAL, (at, sid, source, raw, status, why))]
        case SignalFinished(signal_id=sid, reason=why):
            return [(_INSERT_FINISHED, (sid, at, why))]
        case SignalFailed(signal_id=sid, stage=stage):
            failure = (stage.value, record.error_type, record.error, record.raw)
            return [(_INSERT_FAILED, (sid, at, *failure))]
        case SignalCleared(signal_id=sid):
            # Finished too: whatever reads finished signals treats it as done for good.
            done = (sid, at, "failed; cleared by the operator")
            return [(_RESOLVE_FAILED, (at, sid)), (_INSERT_FINISHED, done)]
        case IntentRecorded(request=req):
            body = msgspec.json.encode(req).decode()
            params = (req.client_order_id, record.signal_id, record.leg, req.symbol)
            return [(_UPSERT_INTENT, (*params, req.side.value, str(req.qty), body, at, at))]
        case OrderStateRecorded(client_order_id=cid, state=state):
            progress = (
                record.venue_order_id,
                str(record.filled_qty),
                _dec(record.avg_fill_price),
                record.reason,
            )
            statements: list[Statement] = [
                (_UPSERT_STATE, (cid, record.symbol, state, *progress, at, at)),
                (_INSERT_STATE, (cid, at, state, *progress)),
            ]
            if state in FINAL_STATES:
                statements.append((_FINISH_BY_ORDERS, (at, cid)))
            return statements
        case OrderRefused(client_order_id=cid, symbol=symbol, state=state):
            what = (record.signal_id, record.leg, symbol, record.side.value, _dec(record.qty))
            refusal = (state, record.code, record.detail)
            return [(_UPSERT_REFUSAL, (cid, *what, *refusal, at, at))]
        case FillRecorded(execution_id=eid, client_order_id=cid):
            fill = (record.symbol, record.side.value, str(record.qty), str(record.price), at)
            return [(_INSERT_FILL, (eid, cid, *fill))]
        case PositionRecorded(symbol=symbol):
            values = (
                symbol,
                str(record.qty),
                str(record.avg_entry_price),
                str(record.realized_pnl),
                at,
            )
            return [(_UPSERT_POSITION, values), (_INSERT_POSITION_HISTORY, values)]
        case RiskDenied(client_order_id=cid, symbol=symbol, code=code, detail=detail):
            return [(_INSERT_DENIAL, (at, cid, symbol, code, detail))]
        case RiskStateRecorded(halted=halted, latched=latched, trading_day=day):
            iso_day = None if day is None else day.isoformat()
            row = (int(halted), latched, iso_day, _dec(record.start_equity), at, record.runaway)
            return [(_UPSERT_RISK_STATE, row)]
        case ProtectionRecorded(entry_client_order_id=cid, symbol=symbol):
            what = (cid, symbol, record.mode.value, record.signal_id, record.exit_side.value)
            levels = (str(record.qty), _dec(record.take_profit), _dec(record.stop_loss))
            exits = ",".join(record.exits)
            stands = (record.generation, record.phase.value, record.state, at)
            return [(_UPSERT_PROTECTION, (*what, *levels, exits, *stands))]
        case VenueCallRecorded(call=call):
            return [
                (
                    _INSERT_CALL,
                    (
                        at,
                        call.method,
                        call.path,
                        call.symbol,
                        call.status,
                        call.latency_s,
                        call.request_body,
                        call.response_body,
                        call.error,
                    ),
                )
            ]
        case DriftRecorded(drift_id=did, symbol=symbol):
            quantities = (str(record.journal_qty), str(record.venue_qty), _dec(record.notional))
            cause = (record.cause, record.detail, record.found_by)
            return [(_INSERT_DRIFT, (did, at, symbol, *quantities, *cause))]
        case CorrectionRecorded(correction_id=cid, symbol=symbol):
            return [(_UPSERT_CORRECTION, (cid, at, record.drift_id, symbol, *_correction(record)))]
        case _:
            assert_never(record)


def _correction(record: CorrectionRecorded) -> tuple[object, ...]:
    return (
        record.cause,
        record.remedy,
        str(record.journal_qty),
        str(record.venue_qty),
        str(record.target_qty),
        _dec(record.notional),
        record.status.value,
        timestamp(record.at),
        record.signal_id,
        record.detail,
    )
