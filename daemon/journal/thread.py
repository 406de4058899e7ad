"""The journal's one thread: it owns the SQLite connection and does all of its I/O.

Trio tasks put jobs on a ``queue.Queue``; the thread takes whatever has queued up, writes
all of it in one transaction (group commit: records that arrive while a commit runs go
into the next one together), and wakes the waiting tasks through the trio token's
``run_sync_soon``. Reads run on the same thread and connection, after the writes queued
before them, so a read sees every record handed over before it was asked.

Durability per batch: a batch that someone waits on (``commit``, ``flush``) is written with
``synchronous=FULL``; a batch of appends only with ``NORMAL``, which in WAL mode survives a
crash of the process but not of the machine until the next FULL commit syncs the log.

Exceptions travel back raw (sqlite3 errors, ``SchemaError``, ``IntegrityFailure``);
``daemon.journal.store`` turns them into ``JournalUnavailable``/``JournalCorrupt``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

import attrs
import trio

from daemon.journal.schema import migrate
from daemon.journal.writes import statements_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from actors.records import JournalRecord

log = logging.getLogger("tradingd.journal")


class IntegrityFailure(Exception):
    """``PRAGMA integrity_check`` found damage."""


class JournalLocked(Exception):
    """Another process holds the journal."""


@attrs.define
class JournalStats:
    """Counters for tests, benchmarks and metrics (written by the journal's thread only)."""

    transactions: int = 0  # write transactions committed
    synced_transactions: int = 0  # of which with synchronous=FULL
    records: int = 0  # records written
    synced_seconds: float = 0.0  # total time spent in FULL transactions


@attrs.define(eq=False)
class Waiter:
    """A trio task waiting on the thread: completed on the trio side only."""

    _event: trio.Event = attrs.field(factory=trio.Event, init=False)
    result: Any = attrs.field(default=None, init=False)
    error: BaseException | None = attrs.field(default=None, init=False)

    def complete(self, result: Any, error: BaseException | None) -> None:
        self.result, self.error = result, error
        self._event.set()

    async def wait(self) -> Any:
        """The thread's result; its exception is returned in ``error``, never raised here."""
        await self._event.wait()
        return self.result


@attrs.frozen
class Write:
    records: tuple[JournalRecord, ...]
    waiter: Waiter | None  # None for append: nobody waits


@attrs.frozen
class Read:
    query: Callable[[sqlite3.Connection], Any]
    waiter: Waiter


@attrs.frozen
class Stop:
    waiter: Waiter


Job = Write | Read | Stop
Completion = tuple[Waiter, Any, BaseException | None]


class JournalThread:
    """Owns the connection; see the module docstring."""

    def __init__(self, path: str, busy_timeout: float, token: trio.lowlevel.TrioToken) -> None:
        self.path = path
        self.stats = JournalStats()
        # Set once by the thread when a write fails; read by the trio side so later writes
        # fail at once. A reference assignment, so no lock is needed to read it.
        self.failure: BaseException | None = None
        self._busy_timeout = busy_timeout
        self._token = token
        self._jobs: queue.Queue[Job] = queue.Queue()
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._synchronous: str | None = None
        self._unsynced = False  # NORMAL batches written since the last FULL one
        self._thread = threading.Thread(target=self._run, name="tradingd-journal", daemon=True)
        self._opened = Waiter()

    def start(self) -> Waiter:
        """Start the thread; the returned waiter completes once the journal is open."""
        self._thread.start()
        return self._opened

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def join(self) -> None:
        self._thread.join()

    # --- on the thread -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._open()
        except BaseException as exc:
            self._close_files()
            self._deliver([(self._opened, None, exc)])
            return
        self._deliver([(self._opened, None, None)])
        while True:
            jobs = [self._jobs.get()]
            # Everything that queued up meanwhile goes into this round.
            while True:
                try:
                    jobs.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            if not self._run_round(jobs):
                return

    def _run_round(self, jobs: list[Job]) -> bool:
        """Run one round of jobs in order; False once a Stop was handled."""
        done: list[Completion] = []
        writes: list[Write] = []
        for job in jobs:
            match job:
                case Write():
                    writes.append(job)
                case Read(query=query, waiter=waiter):
                    done += self._write(writes)
                    writes = []
                    done.append(self._read(query, waiter))
                case Stop(waiter=waiter):
                    done += self._write(writes)
                    self._close_files()
                    done.append((waiter, None, None))
                    self._deliver(done)
                    return False
        done += self._write(writes)
        self._deliver(done)
        return True

    def _open(self) -> None:
        self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise JournalLocked("the journal is in use by another process") from exc
        conn = self._conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None
        )
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
        if problems != ["ok"]:
            raise IntegrityFailure("; ".join(problems))
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"cannot switch to WAL mode (got {mode!r})")
        self._set_synchronous("FULL")
        migrate(conn)

    def _set_synchronous(self, level: str) -> None:
        assert self._conn is not None
        if self._synchronous != level:
            self._conn.execute(f"PRAGMA synchronous = {level}")
            self._synchronous = level

    def _write(self, writes: list[Write]) -> list[Completion]:
        if not writes:
            return []
        waiters = [w.waiter for w in writes if w.waiter is not None]
        if self.failure is not None:
            return [(w, None, self.failure) for w in waiters]
        records = [record for w in writes for record in w.records]
        durable = bool(waiters)
        try:
            if records or (durable and self._unsynced):
                self._transaction(records, durable)
        except Exception as exc:
            log.error("journal %s: writing %d records failed: %s", self.path, len(records), exc)
            self.failure = exc
            return [(w, None, exc) for w in waiters]
        return [(w, None, None) for w in waiters]

    def _transaction(self, records: list[JournalRecord], durable: bool) -> None:
        conn = self._conn
        assert conn is not None
        started = time.perf_counter()
        self._set_synchronous("FULL" if durable else "NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for record in records:
                for sql, params in statements_for(record):
                    conn.execute(sql, params)
            if not records:
                # Nothing new, but earlier NORMAL batches are not synced yet: any FULL
                # commit syncs the whole log, so write something small.
                conn.execute(
                    "INSERT INTO journal_meta (key, value) VALUES ('flushes', 1) "
                    "ON CONFLICT (key) DO UPDATE SET value = value + 1"
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.stats.transactions += 1
        self.stats.records += len(records)
        if durable:
            self.stats.synced_transactions += 1
            self.stats.synced_seconds += time.perf_counter() - started
        self._unsynced = not durable

    def _read(self, query: Callable[[sqlite3.Connection], Any], waiter: Waiter) -> Completion:
        assert self._conn is not None
        try:
            return (waiter, query(self._conn), None)
        except Exception as exc:
            return (waiter, None, exc)

    def _close_files(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error as exc:
                log.error("journal %s: closing failed: %s", self.path, exc)
            self._conn = None
        if self._lock_fd is not None:
            # Closing the descriptor releases the flock.
            os.close(self._lock_fd)
            self._lock_fd = None

    def _deliver(self, done: list[Completion]) -> None:
        if not done:
            return
        try:
            self._token.run_sync_soon(_complete, done)
        except trio.RunFinishedError:
            log.warning("journal %s: results arrived after the trio run ended", self.path)


def _complete(done: list[Completion]) -> None:
    for waiter, result, error in done:
        waiter.complete(result, error)
