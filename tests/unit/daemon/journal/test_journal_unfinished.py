"""The journal tells which accepted signals never got to work: those startup replays."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from actors.records import SignalFinished
from daemon.journal.store import open_journal
from tests.unit.journal_builders import at, intent, signal, state

if TYPE_CHECKING:
    from pathlib import Path


def finished_ids(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT signal_id, reason FROM signals_finished"))
    finally:
        conn.close()


async def test_only_accepted_signals_without_order_or_end_are_unfinished(tmp_path: Path) -> None:
    """Accepted and untouched: listed, oldest first; finished, ordered or refused: not."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(
            signal("queued-2", seconds=1),
            signal("queued-1", seconds=2),
            signal("queued-2", seconds=3),  # a second accepted row: listed once, at its first
            signal("done"),
            SignalFinished(at=at(), signal_id="done", reason="its order is final or resting"),
            signal("ordered"),
            intent("ordered-entry"),
            signal("refused", status="rejected"),
        )
        unfinished = await journal.unfinished_signals()
    assert [(u.signal_id, u.accepted_at) for u in unfinished] == [
        ("queued-2", at(1)),
        ("queued-1", at(2)),
    ]


async def test_a_signal_is_finished_when_its_last_order_ends(tmp_path: Path) -> None:
    """Orders adopted at startup carry their signal: it is finished once none still works."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(
            signal("s1"), intent("s1-entry"), intent("s1-tp"), state("s1-entry", "filled")
        )
    assert finished_ids(path) == {}
    async with open_journal(path) as journal:
        await journal.commit(state("s1-tp", "canceled"))
    assert finished_ids(path) == {"s1": "its orders are final"}


async def test_a_second_finish_keeps_the_first(tmp_path: Path) -> None:
    """The executor's record and the orders' both finish a signal: the first reason stays."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(
            signal("s1"),
            SignalFinished(at=at(), signal_id="s1", reason="no order: position is flat"),
            SignalFinished(at=at(1), signal_id="s1", reason="superseded by s2"),
        )
    assert finished_ids(path) == {"s1": "no order: position is flat"}
