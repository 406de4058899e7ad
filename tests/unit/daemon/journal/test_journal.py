"""The journal on a real file: records round-trip, durability, idempotent fills, reads."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing

from actors.records import JournalRecord, SignalRecorded
from brokers.base import Side
from daemon.journal.store import Journal, open_journal
from tests.unit.journal_builders import at, call, denial, fill, intent, position, signal, state

if TYPE_CHECKING:
    from pathlib import Path


async def test_orders_round_trip_with_intent_and_latest_state(tmp_path: Path) -> None:
    """An order's intent and its last state come back as one row, decimals exact."""
    cid = "s1-entry"
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(
            intent(cid, qty="0.000000001"),
            state(cid, "accepted", seconds=1),
            state(cid, "filled", filled="0.000000001", avg="123.456789012345678901", seconds=2),
        )
        [order] = await journal.orders()
    assert order.client_order_id == cid
    assert (order.signal_id, order.leg, order.symbol) == ("s1", "entry", "AAPL")
    assert order.side is Side.BUY
    assert order.qty == Decimal("0.000000001")
    assert order.state == "filled"
    assert order.filled_qty == Decimal("0.000000001")
    assert order.avg_fill_price == Decimal("123.456789012345678901")
    assert order.venue_order_id == "v-1"
    assert order.created_at == at(0)
    assert order.updated_at == at(2)
    assert order.updated_at.tzinfo is not None


async def test_commit_is_durable_across_close_and_reopen(tmp_path: Path) -> None:
    """What commit returned for is read back after the journal is closed and reopened."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(signal("s1"), intent("s1-entry"))
    async with open_journal(path) as journal:
        assert [o.client_order_id for o in await journal.orders()] == ["s1-entry"]
        assert await journal.accepted_signal_ids() == {"s1"}


async def test_commit_returns_only_once_another_connection_sees_the_records(
    tmp_path: Path,
) -> None:
    """After commit returns, the rows are in the file (WAL), fsynced with synchronous=FULL."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(signal("s1"), signal("s2"))
        with sqlite3.connect(path) as other:
            (count,) = other.execute("SELECT count(*) FROM signals").fetchone()
        other.close()
        assert count == 2
        assert journal.stats.synced_transactions == 1


async def test_appends_are_written_unsynced_until_a_flush_syncs_them(tmp_path: Path) -> None:
    """An append-only batch is written without an fsync; flush adds the FULL sync."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.append(signal("s1"))
        # A read runs after every write queued before it.
        assert await journal.accepted_signal_ids() == {"s1"}
        assert (journal.stats.transactions, journal.stats.synced_transactions) == (1, 0)
        await journal.flush()
        assert (journal.stats.transactions, journal.stats.synced_transactions) == (2, 1)
        await journal.flush()  # nothing new since the last FULL commit: no transaction
        assert journal.stats.transactions == 2


async def test_appended_records_survive_close_and_reopen(tmp_path: Path) -> None:
    """Closing the journal flushes what was only appended."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.append(intent("s1-entry"), state("s1-entry", "accepted"))
    async with open_journal(path) as journal:
        assert [o.state for o in await journal.orders()] == ["accepted"]


async def test_duplicate_execution_ids_are_ignored(tmp_path: Path) -> None:
    """A fill whose execution id is already recorded is not recorded again."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(fill("a-entry", "x1", "3", "10.5"), fill("a-entry", "x2", "2", "11"))
        await journal.commit(fill("a-entry", "x1", "3", "10.5"))
        await journal.commit(fill("b-entry", "y1", "1", "9", symbol="MSFT"))
        fills = await journal.fills()
        one_order = await journal.fills("a-entry")
    assert [f.execution_id for f in fills] == ["x1", "x2", "y1"]
    assert [f.execution_id for f in one_order] == ["x1", "x2"]
    assert sum(f.qty for f in one_order) == Decimal(5)
    assert one_order[0].price == Decimal("10.5")
    assert one_order[0].side is Side.BUY


async def test_accepted_signal_ids_survive_reopen_and_exclude_other_acks(tmp_path: Path) -> None:
    """Only signals acked "accepted" count as seen; the set survives a restart."""
    path = tmp_path / "j.sqlite3"
    async with open_journal(path) as journal:
        await journal.commit(
            signal("s1"),
            signal("s2", status="rejected"),
            signal("s1", status="duplicate"),
            signal("s3"),
        )
    async with open_journal(path) as journal:
        assert await journal.accepted_signal_ids() == {"s1", "s3"}


async def test_unresolved_orders_are_those_whose_last_state_is_not_final(tmp_path: Path) -> None:
    """Intent-only, unknown and working orders are unresolved; final states are not."""
    records: list[JournalRecord] = []
    finals = ["filled", "canceled", "expired", "rejected", "replaced"]
    for n, final in enumerate(finals):
        records += [
            intent(f"f{n}-entry"),
            state(f"f{n}-entry", "accepted"),
            state(f"f{n}-entry", final),
        ]
    records += [
        intent("i-entry"),
        intent("u-entry"),
        state("u-entry", "unknown", venue_id=None),
        intent("p-entry"),
        state("p-entry", "partially_filled", filled="1", avg="10"),
        denial("d-entry"),
        state("d-entry", "denied", venue_id=None),
    ]
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(*records)
        unresolved = await journal.unresolved_orders()
        orders = await journal.orders()
    assert [(o.client_order_id, o.state) for o in unresolved] == [
        ("i-entry", "intent"),
        ("u-entry", "unknown"),
        ("p-entry", "partially_filled"),
    ]
    denied = next(o for o in orders if o.client_order_id == "d-entry")
    # Refused by risk before any intent: what was asked is not known to this row.
    assert (denied.state, denied.side, denied.qty, denied.signal_id) == ("denied", None, None, None)


async def test_a_later_state_keeps_the_known_venue_order_id(tmp_path: Path) -> None:
    """A state record without a venue order id does not erase the one already known."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(intent("s1-entry"), state("s1-entry", "accepted", venue_id="v-9"))
        await journal.commit(state("s1-entry", "pending_cancel", venue_id=None))
        [order] = await journal.orders()
    assert (order.state, order.venue_order_id) == ("pending_cancel", "v-9")


async def test_positions_keep_the_latest_per_symbol(tmp_path: Path) -> None:
    """Each symbol's last recorded position wins; P&L decimals are exact."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(position("AAPL", "10", "100.10"), position("MSFT", "-2", "400"))
        await journal.commit(position("AAPL", "6", "100.10", pnl="12.3400"))
        positions = await journal.positions()
    assert sorted(positions) == ["AAPL", "MSFT"]
    assert positions["AAPL"].qty == Decimal(6)
    assert positions["AAPL"].realized_pnl == Decimal("12.3400")
    assert positions["MSFT"].qty == Decimal(-2)


async def test_audit_filters_by_symbol_and_time_and_keeps_the_latest(tmp_path: Path) -> None:
    """Audit rows keep the symbol their call carries; since and limit select the latest."""
    body = '{"symbol":"AAPL","qty":"1"}'
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(
            call("/v2/account", seconds=0),
            call("/v2/orders", "POST", request_body=body, seconds=1, symbol="AAPL"),
            call("/v2/positions/MSFT", seconds=2, symbol="MSFT"),
            call(
                "/v2/orders:by_client_order_id",
                response_body='{"symbol":"AAPL"}',
                seconds=3,
                symbol="AAPL",
            ),
            call("/v2/orders", response_body='[{"symbol":"AAPL"}]', seconds=4),
        )
        everything = await journal.audit()
        aapl = await journal.audit(symbol="AAPL")
        recent = await journal.audit(since=at(2))
        last_two = await journal.audit(limit=2)
    assert [a.symbol for a in everything] == [None, "AAPL", "MSFT", "AAPL", None]
    assert [a.at for a in aapl] == [at(1), at(3)]
    assert [a.at for a in recent] == [at(2), at(3), at(4)]
    assert [a.at for a in last_two] == [at(3), at(4)]
    assert everything[1].request_body == '{"symbol":"AAPL","qty":"1"}'
    assert everything[1].method == "POST"


async def test_watch_sees_every_record_in_order_until_the_watcher_leaves(tmp_path: Path) -> None:
    """A watcher gets appended and committed records in hand-over order, then the end."""
    seen: list[JournalRecord] = []
    records: list[JournalRecord] = [
        signal("s1"),
        intent("s1-entry"),
        state("s1-entry", "accepted"),
        signal("s2"),
    ]

    async def collect(receive: trio.MemoryReceiveChannel[JournalRecord]) -> None:
        async for record in receive:
            seen.append(record)

    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.append(signal("before-watching"))
        async with trio.open_nursery() as nursery:
            with journal.watch() as receive:
                nursery.start_soon(collect, receive)
                await journal.append(records[0])
                await journal.commit(records[1], records[2])
                await journal.append(records[3])
                await trio.testing.wait_all_tasks_blocked()
                assert seen == records
        # The collector ended when the watcher left; later records go nowhere, nothing fails.
        await journal.commit(signal("s3"))
    assert seen == records


async def test_watching_ends_when_the_journal_closes(tmp_path: Path) -> None:
    """A watcher still iterating when the journal closes sees the end of the stream."""
    seen: list[JournalRecord] = []

    async def collect(journal: Journal, *, task_status: trio.TaskStatus[None]) -> None:
        with journal.watch() as receive:
            task_status.started()
            async for record in receive:
                seen.append(record)

    async with trio.open_nursery() as nursery, open_journal(tmp_path / "j.sqlite3") as journal:
        await nursery.start(collect, journal)
        await journal.commit(signal("s1"))
    assert seen == [signal("s1")]


async def test_naive_datetime_is_refused_at_once_and_the_journal_keeps_working(
    tmp_path: Path,
) -> None:
    """A record with a naive datetime raises in the caller, not on the journal's thread."""
    naive = SignalRecorded(
        at=at().replace(tzinfo=None), signal_id="s1", source="t", raw="{}", status="accepted"
    )
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        with pytest.raises(ValueError, match="naive"):
            await journal.commit(naive)
        await journal.commit(signal("s2"))
        assert await journal.accepted_signal_ids() == {"s2"}
