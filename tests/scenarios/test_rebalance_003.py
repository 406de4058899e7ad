"""Incident 003: a rebalance that liquidated everything and bought it back. Here a
rebalance trades only the deltas, sells before buys."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import trio

from actors.records import IntentRecorded, JournalRecord
from brokers.base import Side
from brokers.sim import SimControl, running_sim
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path


async def intents(
    watch: trio.MemoryReceiveChannel[JournalRecord], count: int
) -> list[IntentRecorded]:
    seen: list[IntentRecorded] = []
    async for record in watch:
        if isinstance(record, IntentRecorded):
            seen.append(record)
            if len(seen) == count:
                return seen
    raise AssertionError("journal closed")


async def test_003_rebalance_trades_deltas_sells_first(tmp_path: Path) -> None:
    """From 60 AAPL / 0 MSFT to 3%/5% of equity: sell the AAPL excess first, then buy MSFT."""
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices({"AAPL": "100", "MSFT": "200"})
        async with daemon_on(venue, tmp_path / "journal.sqlite3") as daemon:
            with trio.fail_after(20):
                await daemon.prices.wait_for("AAPL")
                await daemon.prices.wait_for("MSFT")
                await daemon.intake.submit(
                    b'{"id":"b","symbol":"AAPL","action":"buy","qty":60}', "t"
                )
                await daemon.activity.wait_idle()
                equity = Decimal((await control.state())["account"]["equity"])
                with daemon.journal.watch() as watch:
                    line = b'{"id":"r","action":"rebalance","targets":{"AAPL":0.03,"MSFT":0.05}}'
                    ack = await daemon.intake.submit(line, "t")
                    sell, buy = await intents(watch, 2)
                await daemon.activity.wait_idle()
            assert ack.status == "accepted"
            assert ack.reason == "rebalance: 1 sells then 1 buys"
            aapl_target = (equity * Decimal("0.03") / 100).to_integral_value(rounding="ROUND_DOWN")
            msft_target = (equity * Decimal("0.05") / 200).to_integral_value(rounding="ROUND_DOWN")
            assert (sell.request.symbol, sell.request.side) == ("AAPL", Side.SELL)
            assert sell.request.qty == 60 - aapl_target
            assert (buy.request.symbol, buy.request.side, buy.request.qty) == (
                "MSFT",
                Side.BUY,
                msft_target,
            )
            state = await control.state()
            venue_positions = {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}
            assert venue_positions == {"AAPL": aapl_target, "MSFT": msft_target}
            assert daemon.positions() == venue_positions
            # Turnover is the deltas only: two orders, never a liquidation of the 60 shares.
            assert set(state["submissions"].values()) == {1}
            assert len(state["submissions"]) == 3
