"""Incident 004 (position sync on startup): what the venue did while tradingd was down."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from actors.records import PositionRecorded
from brokers.base import utc_now
from daemon.journal.store import open_journal
from tests.scenarios.reconcile_on_sim import Run, buy_elsewhere, reconciling

if TYPE_CHECKING:
    from pathlib import Path


async def journal_holding(tmp_path: Path, symbol: str, qty: int) -> None:
    async with open_journal(tmp_path / "journal.sqlite3") as journal:
        await journal.commit(
            PositionRecorded(
                at=utc_now(),
                symbol=symbol,
                qty=Decimal(qty),
                avg_entry_price=Decimal(100),
                realized_pnl=Decimal(0),
            )
        )


async def corrections_applied(run: Run) -> None:
    async def applied() -> bool:
        return [c.status for c in await run.daemon.journal.corrections()] == ["applied"]

    await run.until(applied)


async def test_a_trade_made_while_down_is_traded_back_at_startup_in_auto(tmp_path: Path) -> None:
    """The journal has history (a closed AAPL position); 5 MSFT were bought outside while
    tradingd was down: external, found at startup, and sold back (the executor starts from
    the venue's 5)."""
    await journal_holding(tmp_path, "AAPL", 0)
    async with reconciling(
        tmp_path, "auto", before_start=partial(buy_elsewhere, symbol="MSFT", qty=5)
    ) as run:
        await corrections_applied(run)
        [drift] = await run.daemon.journal.drifts()
        assert (drift.symbol, drift.cause, drift.found_by) == ("MSFT", "external", "startup")
        assert (drift.journal_qty, drift.venue_qty) == (0, 5)
        await run.settle()
        assert await run.venue_positions() == {}
        assert run.daemon.positions() == {}
        assert sorted((await run.submissions()).values()) == [1, 1]


async def test_a_fresh_journal_starts_from_the_account_as_it_is(tmp_path: Path) -> None:
    """No journal history: the account's positions are tradingd's start, never drift, even
    in auto mode with an outside order that explains them."""
    async with reconciling(
        tmp_path, "auto", before_start=partial(buy_elsewhere, symbol="MSFT", qty=5)
    ) as run:
        await run.checks(3)
        assert await run.daemon.journal.drifts() == []
        assert await run.daemon.journal.corrections() == []
        assert run.daemon.positions() == {"MSFT": Decimal(5)}
        assert await run.venue_positions() == {"MSFT": Decimal(5)}


async def test_while_running_only_orders_since_startup_explain_a_drift(tmp_path: Path) -> None:
    """3 MSFT bought outside before startup (a startup drift, and the executor's start), 5
    more while running: the running drift is the 5, explained by the new order alone."""
    await journal_holding(tmp_path, "AAPL", 0)
    async with reconciling(
        tmp_path, "observe", before_start=partial(buy_elsewhere, symbol="MSFT", qty=3)
    ) as run:

        async def startup_drift() -> bool:
            return bool(await run.daemon.journal.drifts())

        await run.until(startup_drift)
        await run.buy_elsewhere("MSFT", 5)

        async def two_drifts() -> bool:
            return len(await run.daemon.journal.drifts()) == 2

        await run.until(two_drifts)
        at_start, running = await run.daemon.journal.drifts()
        assert (at_start.found_by, at_start.cause, at_start.venue_qty) == ("startup", "external", 3)
        assert (running.found_by, running.cause) == ("check", "external")
        assert (running.journal_qty, running.venue_qty) == (3, 8)
