"""An older journal is brought up to date in place, keeping everything it holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from daemon.journal import schema as journal_schema
from daemon.journal.store import open_journal


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
    assert version == len(journal_schema.MIGRATIONS) == 3
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
