"""Group commit: concurrent commits all complete, and share transactions."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import trio
import trio.testing

from daemon.journal.store import Journal, open_journal
from tests.unit.journal_builders import call, signal

if TYPE_CHECKING:
    from pathlib import Path

TASKS = 40


async def commit_concurrently(journal: Journal, done: list[str]) -> None:
    async def one(n: int) -> None:
        await journal.commit(signal(f"s{n}"), call(f"/v2/orders/{n}"))
        done.append(f"s{n}")

    async with trio.open_nursery() as nursery:
        for n in range(TASKS):
            nursery.start_soon(one, n)


async def test_commits_arriving_during_a_commit_share_the_next_transaction(
    tmp_path: Path,
) -> None:
    """While the writer is busy, every commit that queues up goes into one next transaction."""
    path = tmp_path / "j.sqlite3"
    done: list[str] = []
    blocker = sqlite3.connect(path, isolation_level=None)
    async with open_journal(path, busy_timeout=30) as journal:
        before = journal.stats.transactions
        # Hold the write lock so the writer is stuck in its first transaction ...
        blocker.execute("BEGIN IMMEDIATE")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(commit_concurrently, journal, done)
            # ... until every task has handed its records over and is waiting.
            await trio.testing.wait_all_tasks_blocked()
            assert done == []
            blocker.execute("ROLLBACK")
        assert sorted(done) == sorted(f"s{n}" for n in range(TASKS))
        assert journal.stats.transactions - before <= 2
        assert journal.stats.records == TASKS * 2
        assert await journal.accepted_signal_ids() == set(done)
        assert len(await journal.audit()) == TASKS
    blocker.close()


async def test_many_concurrent_commits_all_complete_and_are_all_recorded(tmp_path: Path) -> None:
    """Commits from many tasks at once all return, every record is written exactly once."""
    done: list[str] = []
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await commit_concurrently(journal, done)
        assert len(done) == TASKS
        assert journal.stats.records == TASKS * 2
        assert 1 <= journal.stats.transactions <= TASKS
        assert await journal.accepted_signal_ids() == {f"s{n}" for n in range(TASKS)}
