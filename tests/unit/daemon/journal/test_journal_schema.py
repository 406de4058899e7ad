"""An older journal is brought up to date in place, keeping everything it holds."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

from actors.records import ProtectionMode, ProtectionPhase, ProtectionRecorded, RiskStateRecorded
from daemon.journal import schema as journal_schema
from daemon.journal.store import open_journal
from tests.builders import T0

if TYPE_CHECKING:
    from pathlib import Path


def write_version_1_journal(path: Path) -> None:
    """A journal as the first released tradingd left it, with one acked signal."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in journal_schema._statements(journal_schema.MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {journal_schema.APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO signals (at, signal_id, source, raw, status) "
            "VALUES ('2026-01-02T15:00:00.000000+00:00', 'old-1', 'stdin', '{}', 'accepted')"
        )
    finally:
        conn.close()


def tables_and_version(path: Path) -> tuple[set[str], int]:
    conn = sqlite3.connect(path)
    try:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    return names, version


async def test_a_version_1_journal_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    write_version_1_journal(path)
    async with open_journal(path) as journal:
        assert await journal.accepted_signal_ids() == {"old-1"}
    names, version = tables_and_version(path)
    assert version == len(journal_schema.MIGRATIONS) == 6
    assert {"risk_state", "drifts", "corrections", "protections", "signals_failed"} <= names


async def test_an_upgrade_replays_none_of_a_version_1_journals_signals(tmp_path: Path) -> None:
    """Every signal an older journal accepted counts as finished: nothing is traded again."""
    path = tmp_path / "j.sqlite3"
    write_version_1_journal(path)
    async with open_journal(path) as journal:
        assert await journal.unfinished_signals() == []
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT signal_id, at FROM signals_finished").fetchall()
    finally:
        conn.close()
    assert rows == [("old-1", "2026-01-02T15:00:00.000000+00:00")]


async def test_a_new_journal_has_no_finished_signals(tmp_path: Path) -> None:
    """The migration's copy runs on an empty table in a fresh file: nothing to mark."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        assert await journal.unfinished_signals() == []
    assert "signals_finished" in tables_and_version(tmp_path / "j.sqlite3")[0]


def write_version_3_journal(path: Path, states: dict[str, str]) -> None:
    """A journal as tradingd left it before protections had a phase: one row per symbol,
    its state only the text it wrote."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for migration in journal_schema.MIGRATIONS[:3]:
            for statement in journal_schema._statements(migration):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {journal_schema.APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 3")
        for symbol, state in states.items():
            conn.execute(
                "INSERT INTO protections (entry_client_order_id, symbol, mode, signal_id, "
                "exit_side, qty, take_profit, stop_loss, exits, generation, state, updated_at) "
                "VALUES (?, ?, 'oco', 's', 'sell', '5', '110', '90', 'x1', 1, ?, "
                "'2026-01-02T15:00:00.000000+00:00')",
                (f"td-{symbol}-entry", symbol, state),
            )
    finally:
        conn.close()


async def test_an_upgrade_re_arms_exactly_the_protections_that_were_armed(tmp_path: Path) -> None:
    """Rows written as text before the phase column are re-armed only if they were armed."""
    path = tmp_path / "j.sqlite3"
    states = {
        "AAPL": "armed for 5",
        "MSFT": "armed",
        "NVDA": "done",
        "TSLA": "waiting for the entries still working",
        "AMD": "failed: halted",
    }
    write_version_3_journal(path, states)
    async with open_journal(path) as journal:
        restored = await journal.open_protections()
    assert [(p.symbol, p.state, p.phase) for p in restored] == [
        ("AAPL", "armed for 5", ProtectionPhase.ARMED),
        ("MSFT", "armed", ProtectionPhase.ARMED),
    ]
    assert all(p.mode is ProtectionMode.OCO for p in restored)
    conn = sqlite3.connect(path)
    try:
        phases = dict(conn.execute("SELECT symbol, phase FROM protections").fetchall())
    finally:
        conn.close()
    assert phases == {
        "AAPL": "armed",
        "MSFT": "armed",
        "NVDA": "ended",
        "TSLA": "waiting",
        "AMD": "ended",
    }


async def test_a_protection_is_re_armed_by_its_phase_not_its_text(tmp_path: Path) -> None:
    """An armed protection whose text reads otherwise is restored; an ended one reading
    'armed' is not."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        for symbol, phase, text in (
            ("AAPL", ProtectionPhase.ARMED, "exits for 5"),
            ("MSFT", ProtectionPhase.ENDED, "armed, then stopped"),
        ):
            await journal.commit(
                ProtectionRecorded(
                    at=T0,
                    entry_client_order_id=f"td-{symbol}-entry",
                    symbol=symbol,
                    mode=ProtectionMode.NATIVE,
                    take_profit=Decimal(110),
                    stop_loss=Decimal(90),
                    phase=phase,
                    state=text,
                    exits=("leg-1", "leg-2"),
                )
            )
        (restored,) = await journal.open_protections()
    assert (restored.symbol, restored.phase, restored.mode) == (
        "AAPL",
        ProtectionPhase.ARMED,
        ProtectionMode.NATIVE,
    )
    assert restored.exits == ("leg-1", "leg-2")


async def test_a_version_4_risk_state_upgrades_unlatched_and_the_breaker_round_trips(
    tmp_path: Path,
) -> None:
    """A halt written before the breaker existed reads back as not tripped; a tripped
    breaker written now reads back with its cause, and a cause this version does not know
    still latches."""
    path = tmp_path / "j.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for migration in journal_schema.MIGRATIONS[:4]:
            for statement in journal_schema._statements(migration):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {journal_schema.APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 4")
        conn.execute(
            "INSERT INTO risk_state (id, halted, updated_at) "
            "VALUES (1, 1, '2026-01-02T15:00:00.000000+00:00')"
        )
    finally:
        conn.close()
    async with open_journal(path) as journal:
        old = await journal.risk_state()
        assert old is not None
        assert (old.halted, old.runaway) == (True, None)
        await journal.commit(RiskStateRecorded(at=T0, halted=False, runaway="offered_rate"))
        tripped = await journal.risk_state()
        assert tripped is not None
        assert (tripped.halted, tripped.runaway) == (False, "offered_rate")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("UPDATE risk_state SET runaway = 'a later cause'")
    finally:
        conn.close()
    async with open_journal(path) as journal:
        later = await journal.risk_state()
        assert later is not None
        assert later.runaway == "backlog"


def write_version_4_journal(path: Path) -> None:
    """A journal as tradingd left it before refused orders had a code and a detail."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for migration in journal_schema.MIGRATIONS[:4]:
            for statement in journal_schema._statements(migration):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {journal_schema.APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 4")
        at = "2026-01-02T15:00:00.000000+00:00"
        for cid, state, reason in (
            ("td-a-entry", "denied", "max_order_qty: qty 9 exceeds 5"),
            ("td-b-entry", "rejected", "venue rejected (403): restricted"),
            ("td-c-entry", "rejected", "not sent after retries: venue unreachable"),
            ("td-d-entry", "filled", None),
        ):
            conn.execute(
                "INSERT INTO orders (client_order_id, symbol, state, reason, created_at, "
                "updated_at) VALUES (?, 'AAPL', ?, ?, ?, ?)",
                (cid, state, reason, at, at),
            )
        conn.execute(
            "INSERT INTO risk_denials (at, client_order_id, symbol, code, detail) "
            "VALUES (?, 'td-a-entry', 'AAPL', 'max_order_qty', 'qty 9 exceeds 5')",
            (at,),
        )
    finally:
        conn.close()


async def test_an_upgrade_explains_the_refused_orders_an_older_journal_holds(
    tmp_path: Path,
) -> None:
    """Denials take their code from risk_denials, rejections from what was written then."""
    path = tmp_path / "j.sqlite3"
    write_version_4_journal(path)
    async with open_journal(path) as journal:
        rows = await journal.orders()
    assert [(r.client_order_id, r.code, r.detail) for r in rows] == [
        ("td-a-entry", "max_order_qty", "qty 9 exceeds 5"),
        ("td-b-entry", "venue_rejected", "venue rejected (403): restricted"),
        ("td-c-entry", "not_sent", "not sent after retries: venue unreachable"),
        ("td-d-entry", None, None),
    ]
