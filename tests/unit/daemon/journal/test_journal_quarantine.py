"""The journal's quarantine: failed signals are never replayed, stay spent when cleared, are
listed for the operator, and rows startup cannot read are reported rather than raised."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from actors.records import FailureStage, SignalCleared, SignalFailed
from brokers.base import Side
from daemon.journal import schema as journal_schema
from daemon.journal.store import open_journal
from tests.unit.journal_builders import at, intent, signal

if TYPE_CHECKING:
    from pathlib import Path


def failed(signal_id: str, seconds: float = 0) -> SignalFailed:
    return SignalFailed(
        at=at(seconds),
        signal_id=signal_id,
        stage=FailureStage.EXECUTE,
        error_type="ZeroDivisionError",
        error="division by zero",
        raw=f'{{"id":"{signal_id}"}}',
    )


def write_rows(path: Path, *rows: tuple[object, ...]) -> None:
    """Rows put into ``signals`` as another program (or version) might have left them."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executemany(
            "INSERT INTO signals (at, signal_id, source, raw, status) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    finally:
        conn.close()


async def test_a_failed_signal_is_never_replayed(tmp_path: Path) -> None:
    """Accepted, unfinished and failed: startup leaves it out; its queued neighbour stays in."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(signal("poison", seconds=1), signal("queued", seconds=2))
        await journal.commit(failed("poison"))
        assert [u.signal_id for u in await journal.unfinished_signals()] == ["queued"]
    async with open_journal(path) as journal:
        assert [u.signal_id for u in await journal.unfinished_signals()] == ["queued"]


async def test_a_failed_signal_stays_spent_before_and_after_it_is_cleared(tmp_path: Path) -> None:
    """A failure before any ack still spends the id; clearing it neither frees nor replays it."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(failed("never-acked"), signal("acked"), failed("acked"))
        assert await journal.accepted_signal_ids() == {"never-acked", "acked"}
        await journal.commit(SignalCleared(at=at(5), signal_id="acked"))
        await journal.commit(SignalCleared(at=at(6), signal_id="never-acked"))
    async with open_journal(path) as journal:
        assert await journal.accepted_signal_ids() == {"never-acked", "acked"}
        assert await journal.unfinished_signals() == []
        assert await journal.failed_signals() == []
        assert await journal.failed_signal_count() == 0


async def test_failed_signals_are_listed_oldest_first_and_cleared_ones_on_request(
    tmp_path: Path,
) -> None:
    """The list shows what waits for the operator; ``resolved`` adds the cleared, dated."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(failed("b", seconds=2), failed("a", seconds=1), failed("c", 3))
        # A second failure of the same signal keeps the first (usually the cause).
        await journal.commit(
            SignalFailed(
                at=at(9),
                signal_id="a",
                stage=FailureStage.RISK,
                error_type="KeyError",
                error="later",
            )
        )
        await journal.commit(SignalCleared(at=at(4), signal_id="b"))
        waiting = await journal.failed_signals()
        everything = await journal.failed_signals(resolved=True)
        count = await journal.failed_signal_count()
    assert [(f.signal_id, f.stage, f.error_type) for f in waiting] == [
        ("a", FailureStage.EXECUTE, "ZeroDivisionError"),
        ("c", FailureStage.EXECUTE, "ZeroDivisionError"),
    ]
    assert waiting[0].raw == '{"id":"a"}'
    assert [(f.signal_id, f.resolved_at) for f in everything] == [
        ("a", None),
        ("b", at(4)),
        ("c", None),
    ]
    assert count == 2


async def test_rows_startup_cannot_read_back_are_reported_not_raised(tmp_path: Path) -> None:
    """Invalid bytes stored as a BLOB, a time in another format: listed as unreadable, and
    the readable signal beside them still comes back."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path):
        pass
    good_at = at().isoformat(timespec="microseconds")
    write_rows(
        path,
        (good_at, "blob", "stdin", b"\xff\xfe{not utf-8", "accepted"),
        (1764770000, "epoch", "stdin", '{"id":"epoch"}', "accepted"),
        (good_at, "naive", "stdin", '{"id":"naive"}', "accepted"),
        ("2026-01-01T00:00:00", "naive-at", "stdin", '{"id":"naive-at"}', "accepted"),
        (good_at, "fine", "stdin", '{"id":"fine"}', "accepted"),
    )
    async with open_journal(path) as journal:
        readable, unreadable = await journal.unfinished_signal_rows()
    assert [u.signal_id for u in readable] == ["naive", "fine"]
    assert [(u.signal_id, u.error_type) for u in unreadable] == [
        ("blob", "UnicodeDecodeError"),
        ("epoch", "ValueError"),
        ("naive-at", "ValueError"),
    ]


async def test_a_version_2_journal_gains_the_quarantine_and_keeps_its_queued_signal(
    tmp_path: Path,
) -> None:
    """An older journal migrates in place: its unfinished signal is still replayed."""
    path = tmp_path / "j.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for script in journal_schema.MIGRATIONS[:2]:
            for statement in journal_schema._statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {journal_schema.APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 2")
    finally:
        conn.close()
    write_rows(path, (at().isoformat(), "queued", "stdin", '{"id":"queued"}', "accepted"))
    async with open_journal(path) as journal:
        assert [u.signal_id for u in await journal.unfinished_signals()] == ["queued"]
        assert await journal.failed_signals() == []


async def test_a_failed_signal_between_its_legs_is_never_resumed(tmp_path: Path) -> None:
    """An order across zero whose signal was quarantined after its flat leg: startup finds
    no flip to resume (resuming would run the failed signal again); another one it does."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(signal("flip"), signal("other"))
        await journal.commit(intent("flip-flat", side=Side.SELL), intent("other-flat"))
        assert {r.request.client_order_id for r in await journal.flat_legs_without_open(at())} == {
            "flip-flat",
            "other-flat",
        }
        await journal.commit(failed("flip"))
        legs = await journal.flat_legs_without_open(at())
    assert [r.request.client_order_id for r in legs] == ["other-flat"]
