"""Incident 003 (state drift): a trade placed directly at the venue, outside tradingd, is
drift with cause ``external``; its correction trades back to what tradingd intended."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec
import pytest

from actors.reconciler.core_drift import correction_signal_id
from actors.records import CorrectionRecorded, DriftRecorded
from brokers.sim import SimConfig, running_sim
from tests.scenarios.reconcile_on_sim import PRICES, Run, daemon_run, reconciling

if TYPE_CHECKING:
    from pathlib import Path


async def external_drift(run: Run) -> DriftRecorded:
    await run.buy_elsewhere("MSFT", 5)
    drift = await run.record(DriftRecorded)
    assert drift.symbol == "MSFT"
    assert drift.cause == "external"
    assert (drift.journal_qty, drift.venue_qty) == (Decimal(0), Decimal(5))
    assert drift.found_by == "check"
    assert drift.notional == Decimal(1000)
    return drift


async def traded_back_once(run: Run, correction: CorrectionRecorded) -> None:
    """The venue is back to flat, through one order sent once under the correction's id."""
    await run.settle()
    assert await run.venue_positions() == {}
    assert run.daemon.positions() == {}
    signal_id = correction_signal_id(correction.correction_id)
    [order] = [o for o in await run.daemon.journal.orders() if o.signal_id == signal_id]
    assert (order.side, order.qty, order.state) == ("sell", Decimal(5), "filled")
    submissions = await run.submissions()
    assert submissions[order.client_order_id] == 1
    assert len(submissions) == 2  # the outside order and the trade-back


async def test_observe_records_the_external_trade_and_trades_nothing(tmp_path: Path) -> None:
    """observe: the drift is journaled with its cause, reported once; nothing is traded."""
    async with reconciling(tmp_path, "observe") as run:
        await external_drift(run)
        await run.checks(3)
        assert await run.daemon.journal.corrections() == []
        assert len(await run.daemon.journal.drifts()) == 1
        assert await run.venue_positions() == {"MSFT": Decimal(5)}


async def test_approve_queues_then_trades_back_once(tmp_path: Path) -> None:
    """approve: queued; approving sends one order back to flat; approving again does nothing."""
    async with reconciling(tmp_path, "approve") as run:
        drift = await external_drift(run)
        queued = await run.record(CorrectionRecorded)
        assert queued.status == "queued"
        assert queued.drift_id == drift.drift_id
        assert (queued.remedy, queued.target_qty) == ("trade_back", Decimal(0))
        assert await run.venue_positions() == {"MSFT": Decimal(5)}
        result = await run.daemon.approve(queued.correction_id)
        assert result.ok, result
        assert result.status == "applied"
        await traded_back_once(run, queued)
        again = await run.daemon.approve(queued.correction_id)
        assert not again.ok
        await run.settle()
        await traded_back_once(run, queued)
        [row] = await run.daemon.journal.corrections()
        assert row.status == "applied"
        assert row.signal_id == correction_signal_id(queued.correction_id)


@pytest.mark.parametrize(("limit", "applied"), [(100_000, True), (999, False)])
async def test_auto_trades_back_within_the_limit_and_queues_above(
    tmp_path: Path, limit: int, applied: bool
) -> None:
    """auto: a $1000 correction is sent at once under a $100k limit, queued under $999."""
    async with reconciling(tmp_path, "auto", auto_limit=limit) as run:
        await external_drift(run)
        done = await run.record(CorrectionRecorded, lambda c: c.status != "queued" or not applied)
        if applied:
            assert done.status == "applied"
            await traded_back_once(run, done)
        else:
            assert done.status == "queued"
            assert "above the auto limit" in (done.detail or "")
            await run.checks(2)
            assert await run.venue_positions() == {"MSFT": Decimal(5)}


async def test_full_reconciliation_on_command_reports_every_symbol(tmp_path: Path) -> None:
    """``tradingd reconcile``: one row per symbol with the difference and its cause."""
    async with reconciling(tmp_path, "observe") as run:
        await run.buy_elsewhere("MSFT", 5)
        await run.record(DriftRecorded)
        report = await run.daemon.reconcile()
        assert report.error is None
        [row] = report.rows
        assert row.symbol == "MSFT"
        assert (row.tradingd_qty, row.venue_qty, row.difference) == (0, 5, 5)
        assert row.state == "drift"
        assert row.cause == "external"


async def test_a_running_executor_takes_in_the_outside_fill_and_trades_back(
    tmp_path: Path,
) -> None:
    """tradingd holds 2 MSFT, 5 more are bought outside while it runs: the executor takes the
    outside fill into its position (journaled, marked outside), so it holds the venue's 7 and
    the correction sells back to the intended 2 at once, no restart. After a restart the
    journal agrees with the venue: no drift."""
    buy = msgspec.json.encode({"id": "mine-1", "symbol": "MSFT", "action": "buy", "qty": 2})
    async with running_sim(SimConfig(prices=dict(PRICES))) as endpoints:
        async with daemon_run(endpoints, tmp_path, "auto") as first:
            assert (await first.daemon.intake.submit(buy, "test")).status == "accepted"
            await first.settle()
            await first.buy_elsewhere("MSFT", 5)
            drift = await first.record(DriftRecorded)
            assert (drift.cause, drift.journal_qty, drift.venue_qty) == ("external", 2, 7)
            done = await first.record(CorrectionRecorded, lambda c: c.status != "queued")
            assert (done.status, done.target_qty) == ("applied", 2)
            await first.settle()
            assert await first.venue_positions() == {"MSFT": Decimal(2)}
            assert first.daemon.positions() == {"MSFT": Decimal(2)}
            outside = [
                f
                for f in await first.daemon.journal.fills()
                if f.execution_id.startswith("outside:")
            ]
            assert [(f.side, f.qty) for f in outside] == [("buy", Decimal(5))]
            assert (await first.daemon.journal.positions())["MSFT"].qty == Decimal(2)
            signal_id = correction_signal_id(done.correction_id)
            [back] = [o for o in await first.daemon.journal.orders() if o.signal_id == signal_id]
            assert (back.side, back.qty, back.state) == ("sell", Decimal(5), "filled")
            await first.checks(2)
            assert len(await first.daemon.journal.drifts()) == 1
        async with daemon_run(endpoints, tmp_path, "auto") as second:
            assert second.daemon.startup.drifts == ()
            await second.checks(2)
            assert len(await second.daemon.journal.drifts()) == 1
            assert second.daemon.positions() == {"MSFT": Decimal(2)}


async def test_observe_takes_the_outside_fill_in_and_reports_the_drift_once(
    tmp_path: Path,
) -> None:
    """observe: nothing is traded, but the executor holds the venue's position from the drift
    on, so later checks find no difference and a close would sell all of it."""
    async with reconciling(tmp_path, "observe") as run:
        buy = msgspec.json.encode({"id": "mine-1", "symbol": "MSFT", "action": "buy", "qty": 2})
        assert (await run.daemon.intake.submit(buy, "test")).status == "accepted"
        await run.settle()
        await run.buy_elsewhere("MSFT", 5)
        drift = await run.record(DriftRecorded)
        assert (drift.cause, drift.journal_qty, drift.venue_qty) == ("external", 2, 7)
        await run.checks(3)
        assert run.daemon.positions() == {"MSFT": Decimal(7)}
        assert len(await run.daemon.journal.drifts()) == 1
        assert await run.daemon.journal.corrections() == []
        await run.buy_elsewhere("MSFT", 1)

        async def second_drift() -> bool:
            return len(await run.daemon.journal.drifts()) == 2

        await run.until(second_drift)
        _, later = await run.daemon.journal.drifts()
        # Only the new outside order explains it: the first one is counted already.
        assert (later.cause, later.journal_qty, later.venue_qty) == ("external", 7, 8)
