"""The journal: everything tradingd did, in SQLite, written by one thread.

    TradingError
     └── JournalUnavailable     the journal cannot be opened or written: halt new orders
          └── JournalCorrupt    the file failed its integrity check (or is not SQLite)

``open_journal`` integrity-checks and migrates the file, and holds an exclusive lock on it
(``<path>.lock``) so two daemons never share a journal. ``commit`` returns once its
records are durable (``synchronous=FULL``): anything acknowledged to a signal source goes
through it. ``append`` returns at once; its records are written with the next batch. A
write that fails breaks the journal for good: every later ``append``/``commit`` raises
``JournalUnavailable``, because what was queued before the failure is lost and the
journal no longer tells the whole story.
"""

from __future__ import annotations

import math
import os
import sqlite3
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, TypeVar, cast

import trio

from actors.records import JournalRecord, ProtectionRecorded, RiskStateRecorded
from brokers.errors import TradingError
from daemon.journal import reconciliation, rows
from daemon.journal.rows import AuditRow, FillRow, FlatLegRow, IntentRow, OrderRow, PositionRow
from daemon.journal.schema import SchemaError
from daemon.journal.signals import (
    FailedSignal,
    UnfinishedSignal,
    UnreadableSignal,
    read_failed_count,
    read_failed_signals,
    read_unfinished_signals,
)
from daemon.journal.thread import (
    IntegrityFailure,
    JournalLocked,
    JournalStats,
    JournalThread,
    Read,
    Stop,
    Waiter,
    Write,
)
from daemon.journal.trades import (
    TradeHistory,
    read_drift_count,
    read_snapshot,
    read_trade_history,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from datetime import datetime
    from decimal import Decimal

    from daemon.journal.reconciliation import CorrectionRow, DriftRow, ReconciliationIds

__all__ = [
    "AuditRow",
    "FillRow",
    "FlatLegRow",
    "IntentRow",
    "Journal",
    "JournalCorrupt",
    "JournalStats",
    "JournalUnavailable",
    "OrderRow",
    "PositionRow",
    "open_journal",
]

T = TypeVar("T")


class JournalUnavailable(TradingError):
    """The journal cannot be opened or written; no new order may go out."""


class JournalCorrupt(JournalUnavailable):
    """The journal file is damaged (or not a SQLite database at all)."""


def _opening_error(path: str, exc: BaseException) -> JournalUnavailable:
    if isinstance(exc, IntegrityFailure):
        return JournalCorrupt(f"journal {path} failed its integrity check: {exc}")
    if isinstance(exc, sqlite3.DatabaseError) and (exc.sqlite_errorname or "").startswith(
        ("SQLITE_CORRUPT", "SQLITE_NOTADB")
    ):
        return JournalCorrupt(f"journal {path} is damaged: {exc}")
    if isinstance(exc, JournalLocked | SchemaError):
        return JournalUnavailable(f"journal {path}: {exc}")
    return JournalUnavailable(f"journal {path} cannot be opened: {exc}")


@asynccontextmanager
async def open_journal(
    path: str | os.PathLike[str], *, busy_timeout: float = 5.0
) -> AsyncIterator[Journal]:
    """Open (creating if needed), integrity-check, migrate; close cleanly on exit (flush first).

    ``busy_timeout`` is how long a write waits for a lock another connection holds on the
    file (someone inspecting it with ``sqlite3``) before the journal gives up as unwritable.
    """
    where = os.fspath(path)
    thread = JournalThread(where, busy_timeout, trio.lowlevel.current_trio_token())
    opened = thread.start()
    # The thread opens even if we are cancelled meanwhile; wait, so it is never orphaned.
    with trio.CancelScope(shield=True):
        await opened.wait()
    if opened.error is not None:
        thread.join()
        raise _opening_error(where, opened.error) from opened.error
    journal = Journal(where, thread)
    try:
        yield journal
    except BaseException:
        with trio.CancelScope(shield=True):
            await journal.aclose(raise_if_broken=False)
        raise
    with trio.CancelScope(shield=True):
        await journal.aclose(raise_if_broken=True)


class Journal:
    """The SQLite journal; satisfies ``actors.records.JournalSink``. Use ``open_journal``."""

    def __init__(self, path: str, thread: JournalThread) -> None:
        self.path = path
        self._thread = thread
        self._watchers: list[trio.MemorySendChannel[JournalRecord]] = []
        self._closed = False

    @property
    def stats(self) -> JournalStats:
        return self._thread.stats

    # --- writes --------------------------------------------------------------------------

    async def append(self, *records: JournalRecord) -> None:
        """Queue records for the next batch; returns at once."""
        self._hand_over(records)
        self._thread.submit(Write(records, None))

    async def commit(self, *records: JournalRecord) -> None:
        """Write records (and everything appended before them); return once durable.

        Cancelling the wait does not withdraw the records: they are written all the same.
        """
        self._hand_over(records)
        waiter = Waiter()
        self._thread.submit(Write(records, waiter))
        await waiter.wait()
        if waiter.error is not None:
            raise self._write_error(waiter.error) from waiter.error

    async def flush(self) -> None:
        """Return once everything appended so far is durable."""
        await self.commit()

    def _hand_over(self, records: tuple[JournalRecord, ...]) -> None:
        if self._closed:
            raise JournalUnavailable(f"journal {self.path} is closed")
        if self._thread.failure is not None:
            raise self._write_error(self._thread.failure) from self._thread.failure
        for record in records:
            # Caught here, in the caller's task: in the thread it would break the journal.
            rows.timestamp(record.at)
        self._publish(records)

    def _write_error(self, cause: BaseException) -> JournalUnavailable:
        return JournalUnavailable(f"journal {self.path} cannot be written: {cause}")

    # --- watchers ------------------------------------------------------------------------

    @contextmanager
    def watch(self) -> Iterator[trio.MemoryReceiveChannel[JournalRecord]]:
        """Every record handed to the journal from now on, in order, before it is written.

        The buffer is unbounded so a slow watcher never slows the journal; iteration ends
        when the watcher leaves the ``with`` block or the journal closes.
        """
        send, receive = trio.open_memory_channel[JournalRecord](math.inf)
        self._watchers.append(send)
        try:
            yield receive
        finally:
            if send in self._watchers:
                self._watchers.remove(send)
            # Only the sending side closes: a task still iterating sees the end, not an error.
            send.close()

    def _publish(self, records: tuple[JournalRecord, ...]) -> None:
        for send in list(self._watchers):
            try:
                for record in records:
                    send.send_nowait(record)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._watchers.remove(send)

    # --- reads ---------------------------------------------------------------------------

    async def accepted_signal_ids(self) -> set[str]:
        """Ids of every signal acked "accepted", named by an order or quarantined: they never
        trade again."""
        return await self._read(rows.read_accepted_signal_ids)

    async def unfinished_signals(self) -> list[UnfinishedSignal]:
        """Accepted signals a crash stopped before their executor started them."""
        readable, _ = await self.unfinished_signal_rows()
        return readable

    async def unfinished_signal_rows(
        self,
    ) -> tuple[list[UnfinishedSignal], list[UnreadableSignal]]:
        """The unfinished signals, and those of them whose journal rows cannot be read back
        (startup quarantines them rather than fail on them)."""
        return await self._read(read_unfinished_signals)

    async def failed_signals(self, *, resolved: bool = False) -> list[FailedSignal]:
        """Quarantined signals, oldest first (with ``resolved``, the cleared ones too)."""
        return await self._read(lambda conn: read_failed_signals(conn, resolved=resolved))

    async def failed_signal_count(self) -> int:
        """Quarantined signals no operator has cleared yet."""
        return await self._read(read_failed_count)

    async def orders(self) -> list[OrderRow]:
        """Every order, oldest first, with its latest state."""
        return await self._read(rows.read_orders)

    async def unresolved_orders(self) -> list[OrderRow]:
        """Orders whose latest state is not final: the venue must say what became of them."""
        return await self._read(rows.read_unresolved_orders)

    async def unresolved_intents(self) -> list[IntentRow]:
        """Intents (with their full requests) whose order is not yet final."""
        return await self._read(rows.read_unresolved_intents)

    async def flat_legs_without_open(self, since: datetime) -> list[FlatLegRow]:
        """Flat legs of orders across zero since ``since`` with no open leg after them."""
        return await self._read(lambda conn: rows.read_flat_legs_without_open(conn, since))

    async def open_protections(self) -> list[ProtectionRecorded]:
        """Exits that still guarded a position when the last run ended."""
        return await self._read(rows.read_open_protections)

    async def positions(self) -> dict[str, PositionRow]:
        """The latest confirmed position per symbol (flat ones included)."""
        return await self._read(rows.read_positions)

    async def last_record_at(self) -> datetime | None:
        """When anything was last recorded: a crash happened after this."""
        return await self._read(rows.read_last_record_at)

    async def known_order_ids(self, client_order_ids: list[str]) -> set[str]:
        """Which of these client order ids the journal has an order for."""
        return await self._read(lambda conn: rows.read_known_order_ids(conn, client_order_ids))

    async def fills(self, client_order_id: str | None = None) -> list[FillRow]:
        """Fills in the order they were recorded, all or one order's."""
        return await self._read(lambda conn: rows.read_fills(conn, client_order_id))

    async def audit(
        self,
        *,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditRow]:
        """The latest ``limit`` venue calls (about ``symbol``, at or after ``since``, before
        ``until``), oldest first."""
        for bound in (since, until):
            if bound is not None:
                rows.timestamp(bound)  # a naive datetime is refused here, not on the thread
        return await self._read(lambda conn: rows.read_audit(conn, symbol, since, limit, until))

    async def trade_history(self, symbol: str | None = None) -> TradeHistory:
        """Fills with their orders' legs and types, and the positions they built."""
        return await self.read_apart(lambda conn: read_trade_history(conn, symbol))

    async def read_apart(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a long read (and whatever pure work goes with it) on a read-only connection of
        its own, in a worker thread: the writer's thread and the trio loop never wait for it.
        WAL lets it overlap the writer; its statements share one snapshot."""
        if self._closed:
            raise JournalUnavailable(f"journal {self.path} is closed")
        try:
            return await trio.to_thread.run_sync(read_snapshot, self.path, query)
        except sqlite3.Error as exc:
            raise JournalUnavailable(f"journal {self.path} cannot be read: {exc}") from exc

    async def drift_count(self) -> int:
        """How many drifts between journal and venue have been recorded, ever."""
        return await self._read(read_drift_count)

    async def risk_state(self) -> RiskStateRecorded | None:
        """RiskGuard's last persisted state: the halt, the latch, the trading day."""
        return await self._read(rows.read_risk_state)

    async def drifts(self, limit: int = 1000) -> list[DriftRow]:
        """The latest ``limit`` drift records, oldest first."""
        return await self._read(lambda conn: reconciliation.read_drifts(conn, limit))

    async def corrections(
        self, *, status: str | None = None, limit: int = 1000
    ) -> list[CorrectionRow]:
        """The latest ``limit`` corrections (only those in ``status``), oldest first."""
        return await self._read(lambda conn: reconciliation.read_corrections(conn, status, limit))

    async def reconciliation_ids(self) -> ReconciliationIds:
        return await self._read(reconciliation.read_reconciliation_ids)

    async def filled_by_order(self, client_order_ids: list[str]) -> dict[str, Decimal]:
        """What tradingd counted as filled for each of these orders (absent: nothing)."""
        return await self._read(
            lambda conn: reconciliation.read_filled_by_order(conn, client_order_ids)
        )

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise JournalUnavailable(f"journal {self.path} is closed")
        waiter = Waiter()
        self._thread.submit(Read(query, waiter))
        result = await waiter.wait()
        if waiter.error is not None:
            raise JournalUnavailable(
                f"journal {self.path} cannot be read: {waiter.error}"
            ) from waiter.error
        return cast("T", result)

    # --- closing -------------------------------------------------------------------------

    async def aclose(self, *, raise_if_broken: bool = True) -> None:
        """Flush, stop the thread, end the watchers. ``open_journal`` calls this."""
        if self._closed:
            return
        failure = self._thread.failure
        if failure is None:
            try:
                await self.flush()
            except JournalUnavailable as exc:
                failure = exc
        self._closed = True
        stopped = Waiter()
        self._thread.submit(Stop(stopped))
        await stopped.wait()
        await trio.to_thread.run_sync(self._thread.join)
        for send in self._watchers:
            send.close()
        self._watchers.clear()
        if failure is not None and raise_if_broken:
            raise JournalUnavailable(
                f"journal {self.path} failed; records after the failure were lost: {failure}"
            ) from failure
