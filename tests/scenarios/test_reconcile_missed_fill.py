"""Incident 003 (state drift): a fill of tradingd's own order that the stream never delivered
is drift with cause ``missed_fill``; its correction adopts the venue's fill, with no order."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from actors.records import CorrectionRecorded, DriftRecorded, FillRecorded
from tests.scenarios.reconcile_on_sim import Run, reconciling

if TYPE_CHECKING:
    from pathlib import Path

BUY = msgspec.json.encode({"id": "missed-1", "symbol": "AAPL", "action": "buy", "qty": 10})


async def missed_fill(run: Run) -> DriftRecorded:
    await run.venue.fault("drop_fills", count=1)
    ack = await run.daemon.intake.submit(BUY, "test")
    assert ack.status == "accepted"
    drift = await run.record(DriftRecorded)
    assert drift.symbol == "AAPL"
    assert drift.cause == "missed_fill"
    assert (drift.journal_qty, drift.venue_qty) == (Decimal(0), Decimal(10))
    assert "td-" in drift.detail
    return drift


async def adopted_once(run: Run) -> None:
    """The executor counts the venue's fill; the venue got the one order, once."""
    fill = await run.record(FillRecorded)
    assert (fill.symbol, fill.qty) == ("AAPL", Decimal(10))
    await run.settle()
    assert run.daemon.positions() == {"AAPL": Decimal(10)}
    assert await run.venue_positions() == {"AAPL": Decimal(10)}
    submissions = await run.submissions()
    assert list(submissions.values()) == [1]
    [order] = await run.daemon.journal.orders()
    assert (order.state, order.filled_qty) == ("filled", Decimal(10))


async def test_observe_records_the_missed_fill_and_changes_nothing(tmp_path: Path) -> None:
    """observe: journaled with its cause; the executor still lacks the fill."""
    async with reconciling(tmp_path, "observe") as run:
        await missed_fill(run)
        await run.checks(3)
        assert await run.daemon.journal.corrections() == []
        assert run.daemon.positions() == {}
        assert not [r for r in run.seen if isinstance(r, FillRecorded)]
        report = await run.daemon.reconcile()
        [row] = report.rows
        assert (row.symbol, row.state, row.cause) == ("AAPL", "drift", "missed_fill")
        [order] = report.orders
        assert (order.tradingd_state, order.venue_status) == ("accepted", "filled")
        assert (order.tradingd_filled, order.venue_filled) == (0, 10)


async def test_approve_adopts_the_venue_fill_once(tmp_path: Path) -> None:
    """approve: queued; approving hands the venue's fill over; a second approval does nothing."""
    async with reconciling(tmp_path, "approve") as run:
        await missed_fill(run)
        queued = await run.record(CorrectionRecorded)
        assert (queued.status, queued.remedy) == ("queued", "adopt_fills")
        assert run.daemon.positions() == {}
        result = await run.daemon.approve(queued.correction_id)
        assert result.ok, result
        await adopted_once(run)
        again = await run.daemon.approve(queued.correction_id)
        assert not again.ok
        await run.checks(2)
        assert run.daemon.positions() == {"AAPL": Decimal(10)}
        assert [r.status for r in await run.daemon.journal.corrections()] == ["applied"]


async def test_auto_adopts_the_venue_fill_at_once(tmp_path: Path) -> None:
    """auto: the fill is adopted without an operator; no order is sent for it."""
    async with reconciling(tmp_path, "auto") as run:
        await missed_fill(run)
        done = await run.record(CorrectionRecorded, lambda c: c.status != "queued")
        assert done.status == "applied"
        await adopted_once(run)
