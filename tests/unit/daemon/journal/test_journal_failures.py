"""A journal that cannot be trusted or written refuses loudly: corrupt, foreign, locked, closed."""

from __future__ import annotations

import shutil
import sqlite3
from typing import TYPE_CHECKING

import pytest

from daemon.journal.store import Journal, JournalCorrupt, JournalUnavailable, open_journal
from tests.unit.journal_builders import call, signal

if TYPE_CHECKING:
    from pathlib import Path


async def make_journal(path: Path, signals: int = 0) -> None:
    async with open_journal(path) as journal:
        await journal.commit(*(signal(f"s{n}") for n in range(signals)))


async def test_garbage_instead_of_a_database_refuses_to_open(tmp_path: Path) -> None:
    """A file overwritten with garbage is reported corrupt, not recreated or ignored."""
    good = tmp_path / "good.sqlite3"
    await make_journal(good, signals=3)
    bad = tmp_path / "bad.sqlite3"
    shutil.copy(good, bad)
    with bad.open("r+b") as f:
        f.write(b"this is not a SQLite file at all" * 4)
    with pytest.raises(JournalCorrupt, match=r"bad\.sqlite3"):
        async with open_journal(bad):
            raise AssertionError("a corrupt journal opened")
    # The original is untouched and still opens.
    async with open_journal(good) as journal:
        assert len(await journal.accepted_signal_ids()) == 3


async def test_a_damaged_table_page_fails_the_integrity_check(tmp_path: Path) -> None:
    """Garbage written into a table's pages is caught by the integrity check at startup."""
    good = tmp_path / "good.sqlite3"
    await make_journal(good, signals=400)
    with sqlite3.connect(good) as conn:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'signals'"
        ).fetchone()
    conn.close()
    bad = tmp_path / "bad.sqlite3"
    shutil.copy(good, bad)
    with bad.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xa5" * 64)
    with pytest.raises(JournalCorrupt, match=r"integrity|damaged|malformed"):
        async with open_journal(bad):
            raise AssertionError("a corrupt journal opened")


async def test_a_journal_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    """A path whose directory cannot hold the file raises JournalUnavailable, naming it."""
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("x")
    with pytest.raises(JournalUnavailable, match="plain-file"):
        async with open_journal(not_a_directory / "j.sqlite3"):
            raise AssertionError("opened")


async def test_another_programs_database_is_not_taken_over(tmp_path: Path) -> None:
    """A SQLite file with someone else's tables is refused, and left without our tables."""
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    with pytest.raises(JournalUnavailable, match="not a tradingd journal"):
        async with open_journal(path):
            raise AssertionError("opened")
    with sqlite3.connect(path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema")}
    conn.close()
    assert tables == {"notes"}


async def test_a_journal_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    """A schema version this code does not know is refused rather than misread."""
    path = tmp_path / "j.sqlite3"
    await make_journal(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(JournalUnavailable, match="newer"):
        async with open_journal(path):
            raise AssertionError("opened")


async def test_two_daemons_cannot_share_a_journal(tmp_path: Path) -> None:
    """While one holder has the journal open, a second open is refused; after, it works."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path):
        with pytest.raises(JournalUnavailable, match="in use"):
            async with open_journal(path):
                raise AssertionError("opened twice")
    async with open_journal(path) as journal:
        await journal.commit(signal("s1"))


async def test_a_closed_journal_refuses_writes_and_reads(tmp_path: Path) -> None:
    """append, commit and reads on a closed journal raise JournalUnavailable."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        pass
    with pytest.raises(JournalUnavailable, match="closed"):
        await journal.append(signal("s1"))
    with pytest.raises(JournalUnavailable, match="closed"):
        await journal.commit(signal("s1"))
    with pytest.raises(JournalUnavailable, match="closed"):
        await journal.orders()


async def test_a_write_that_fails_breaks_the_journal_for_good(tmp_path: Path) -> None:
    """When the file cannot be written, commit raises, then every later append raises too,
    reads still work, and closing reports the failure."""
    path = tmp_path / "j.sqlite3"
    # Another connection holds the write lock; the journal waits no time for it.
    other = sqlite3.connect(path, isolation_level=None)

    async def lose_the_file(journal: Journal) -> None:
        await journal.commit(signal("s1"))
        other.execute("BEGIN IMMEDIATE")
        await journal.append(call("/v2/account"))  # queued, fails with the next batch
        with pytest.raises(JournalUnavailable, match=r"cannot be written.*locked"):
            await journal.commit(signal("s2"))
        other.execute("ROLLBACK")
        # The lock is gone, but records were lost: the journal stays unwritable.
        with pytest.raises(JournalUnavailable, match="cannot be written"):
            await journal.append(signal("s3"))
        with pytest.raises(JournalUnavailable, match="cannot be written"):
            await journal.commit(signal("s3"))
        assert await journal.accepted_signal_ids() == {"s1"}

    with pytest.raises(JournalUnavailable, match="records after the failure were lost"):
        async with open_journal(path, busy_timeout=0) as journal:
            await lose_the_file(journal)
    other.close()
