"""What durability costs: the journal's FULL commit, alone and under concurrent commits.

- one commit at a time: ``await journal.commit(record)`` as a trio task sees it;
- N tasks committing at once: commits per second and records per transaction (group commit);
- ``append`` (committed with the next batch): records per second.

Prints a table.

    python bench/journal.py [--commits N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import percentile  # noqa: E402

from actors.records import SignalRecorded  # noqa: E402
from brokers.base import utc_now  # noqa: E402
from daemon.journal.store import Journal, open_journal  # noqa: E402


def record(n: int) -> SignalRecorded:
    raw = f'{{"id":"bench-{n}","symbol":"AAPL","action":"buy","qty":1}}'
    return SignalRecorded(
        at=utc_now(), signal_id=f"bench-{n}", source="bench", raw=raw, status="accepted"
    )


async def one_at_a_time(journal: Journal, count: int) -> list[float]:
    samples = []
    for n in range(count):
        start = time.perf_counter()
        await journal.commit(record(n))
        samples.append(time.perf_counter() - start)
    return samples


async def concurrent(journal: Journal, tasks: int, each: int, offset: int) -> tuple[float, float]:
    """(commits per second, records per transaction) with ``tasks`` committing at once."""
    before = journal.stats.transactions

    async def committer(first: int) -> None:
        for n in range(first, first + each):
            await journal.commit(record(n))

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for t in range(tasks):
            nursery.start_soon(committer, offset + t * each)
    elapsed = time.perf_counter() - start
    transactions = journal.stats.transactions - before
    return tasks * each / elapsed, tasks * each / max(1, transactions)


async def appends(journal: Journal, count: int, offset: int) -> float:
    start = time.perf_counter()
    for n in range(offset, offset + count):
        await journal.append(record(n))
    await journal.flush()
    return count / (time.perf_counter() - start)


async def main(commits: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async with open_journal(Path(scratch) / "journal.sqlite3") as journal:
            await one_at_a_time(journal, 20)  # warm the file and the thread
            alone = await one_at_a_time(journal, commits)
            rows = []
            offset = 1_000_000
            for tasks in (10, 100):
                per_second, batch = await concurrent(journal, tasks, max(1, commits // 10), offset)
                offset += 1_000_000
                rows.append((tasks, per_second, batch))
            append_rate = await appends(journal, commits * 10, offset)
    print(f"{'FULL commit, one at a time':<34}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'':<34}{percentile(alone, 50) * 1e3:>10.3f}{percentile(alone, 99) * 1e3:>10.3f}")
    print(f"{'tasks committing at once':<34}{'commits/s':>10}{'per txn':>10}")
    for tasks, per_second, batch in rows:
        print(f"{tasks:<34}{per_second:>10.0f}{batch:>10.1f}")
    print(f"{'append (next batch)':<34}{append_rate:>10.0f} records/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=500)
    trio.run(main, parser.parse_args().commits)
