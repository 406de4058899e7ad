"""Incident 004 (a journal that says SHORT 3 while the broker is flat): a journal position the
venue does not have is drift with cause ``phantom``, found at startup; its correction makes
the journal follow the venue, and never buys the position back."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from actors.records import PositionRecorded
from brokers.base import utc_now
from daemon.journal.store import open_journal
from tests.scenarios.reconcile_on_sim import Run, reconciling

if TYPE_CHECKING:
    from pathlib import Path

    from daemon.journal.reconciliation import DriftRow


async def prepare_journal(tmp_path: Path) -> None:
    """A journal from an earlier run that holds 20 AMD (the venue will hold none)."""
    async with open_journal(tmp_path / "journal.sqlite3") as journal:
        await journal.commit(
            PositionRecorded(
                at=utc_now(),
                symbol="AMD",
                qty=Decimal(20),
                avg_entry_price=Decimal(50),
                realized_pnl=Decimal(7),
            )
        )


async def phantom_drift(run: Run) -> DriftRow:
    async def recorded() -> bool:
        return bool(await run.daemon.journal.drifts())

    await run.until(recorded)
    [drift] = await run.daemon.journal.drifts()
    assert (drift.symbol, drift.cause, drift.found_by) == ("AMD", "phantom", "startup")
    assert (drift.journal_qty, drift.venue_qty, drift.notional) == (20, 0, 1000)
    return drift


async def journal_position(run: Run) -> Decimal:
    return (await run.daemon.journal.positions())["AMD"].qty


async def test_observe_records_the_phantom_and_keeps_the_journal(tmp_path: Path) -> None:
    """observe: the drift is journaled; the journal's position is left as it was."""
    await prepare_journal(tmp_path)
    async with reconciling(tmp_path, "observe") as run:
        await phantom_drift(run)
        await run.checks(2)
        assert await run.daemon.journal.corrections() == []
        assert await journal_position(run) == 20
        assert run.daemon.positions() == {}


async def test_approve_adopts_the_venue_flat_position_and_trades_nothing(tmp_path: Path) -> None:
    """approve: queued; approving records the venue's flat position; no order, ever."""
    await prepare_journal(tmp_path)
    async with reconciling(tmp_path, "approve") as run:
        drift = await phantom_drift(run)
        [queued] = await run.daemon.journal.corrections()
        assert (queued.status, queued.remedy, queued.drift_id) == (
            "queued",
            "adopt_position",
            drift.id,
        )
        result = await run.daemon.approve(queued.id)
        assert result.ok, result
        assert await journal_position(run) == 0
        assert (await run.daemon.journal.positions())["AMD"].realized_pnl == 7
        again = await run.daemon.approve(queued.id)
        assert not again.ok
        await run.checks(2)
        assert await run.submissions() == {}
        assert [c.status for c in await run.daemon.journal.corrections()] == ["applied"]


async def test_auto_adopts_at_startup(tmp_path: Path) -> None:
    """auto: the journal follows the venue as soon as the daemon starts."""
    await prepare_journal(tmp_path)
    async with reconciling(tmp_path, "auto") as run:
        await phantom_drift(run)

        async def applied() -> bool:
            return [c.status for c in await run.daemon.journal.corrections()] == ["applied"]

        await run.until(applied)
        assert await journal_position(run) == 0
        assert await run.submissions() == {}
