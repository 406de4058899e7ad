"""A restart on the same journal and venue: what was open at the venue is followed again."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import trio

from actors.records import FillRecorded, JournalRecord, OrderStateRecorded
from brokers.sim import SimControl, running_sim
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path


async def next_fill(watch: trio.MemoryReceiveChannel[JournalRecord]) -> FillRecorded:
    async for record in watch:
        if isinstance(record, FillRecorded):
            return record
    raise AssertionError("journal closed")


async def working(watch: trio.MemoryReceiveChannel[JournalRecord], count: int) -> None:
    """Wait until ``count`` orders are working at the venue."""
    async for record in watch:
        if isinstance(record, OrderStateRecorded) and record.state == "accepted":
            count -= 1
            if count == 0:
                return
    raise AssertionError("journal closed")


async def test_an_order_resting_at_a_restart_is_adopted_and_its_fill_counted(
    tmp_path: Path,
) -> None:
    """A limit order left working by the last run fills later: the new run's position moves."""
    journal = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices({"AAPL": "200"})
        async with daemon_on(venue, journal) as first:
            line = b'{"id":"rest-1","symbol":"AAPL","action":"buy","qty":3,"order_type":"limit","limit_price":150}'
            with first.journal.watch() as watch, trio.fail_after(10):
                ack = await first.intake.submit(line, "test")
                await working(watch, 1)
            assert ack.status == "accepted"
            assert first.unresolved() == 1
        async with daemon_on(venue, journal) as second:
            assert second.unresolved() == 1
            with second.journal.watch() as watch, trio.fail_after(10):
                await control.set_prices({"AAPL": "149"})
                fill = await next_fill(watch)
                await second.activity.wait_idle()
            assert fill.qty == Decimal(3)
            state = await control.state()
            venue_positions = {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}
            assert second.positions() == venue_positions == {"AAPL": Decimal(3)}
            assert second.unresolved() == 0


async def test_a_close_after_a_restart_cancels_the_adopted_order_first(tmp_path: Path) -> None:
    """Close cancels the working order found at startup, then flattens: nothing left behind."""
    journal = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices({"AAPL": "200"})
        async with daemon_on(venue, journal) as first:
            with trio.fail_after(10):
                await first.prices.wait_for("AAPL")
                await first.intake.submit(b'{"id":"b","symbol":"AAPL","action":"buy","qty":2}', "t")
                await first.activity.wait_idle()  # the market buy has filled
            with first.journal.watch() as watch, trio.fail_after(10):
                line = b'{"id":"l","symbol":"AAPL","action":"buy","qty":5,"order_type":"limit","limit_price":100}'
                await first.intake.submit(line, "t")
                await working(watch, 1)
        async with daemon_on(venue, journal) as second:
            with trio.fail_after(10):
                await second.prices.wait_for("AAPL")
                ack = await second.intake.submit(
                    b'{"id":"c","symbol":"AAPL","action":"close"}', "t"
                )
                await second.activity.wait_idle()
            assert ack.status == "accepted"
            state = await control.state()
            assert state["positions"] == []
            assert [o for o in state["orders"] if o["status"] in ("new", "accepted")] == []
            assert second.positions() == {}


async def test_a_fill_made_while_down_is_caught_up_and_no_drift(tmp_path: Path) -> None:
    """A limit order left working fills while nothing runs: startup records the fill before
    it compares positions, so the journal agrees with the venue and no drift is reported."""
    journal = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices({"AAPL": "200"})
        async with daemon_on(venue, journal) as first:
            line = b'{"id":"down-1","symbol":"AAPL","action":"buy","qty":3,"order_type":"limit","limit_price":150}'
            with first.journal.watch() as watch, trio.fail_after(10):
                assert (await first.intake.submit(line, "test")).status == "accepted"
                await working(watch, 1)
        await control.set_prices({"AAPL": "149"})
        async with daemon_on(venue, journal) as second:
            positions = await second.journal.positions()
            assert positions["AAPL"].qty == Decimal(3)
            assert second.startup.drifts == ()
            assert second.startup.positions["AAPL"].qty == Decimal(3)
            assert await second.journal.drifts() == []
            assert second.unresolved() == 0
