"""A restart keeps the journal's realized P&L: later fills add to it, never restart it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import trio

from brokers.sim import SimControl, running_sim
from daemon.journal.store import open_journal
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path

    from daemon.supervisor import Daemon


async def trade(daemon: Daemon, sid: str, side: str, qty: int) -> None:
    line = f'{{"id":"{sid}","symbol":"AAPL","action":"{side}","qty":{qty}}}'.encode()
    with trio.fail_after(10):
        ack = await daemon.intake.submit(line, "test")
        await daemon.activity.wait_idle()
    assert ack.status == "accepted", ack


async def test_realized_pnl_before_a_restart_is_kept_after_it(tmp_path: Path) -> None:
    """Bought 2 @ 100, sold 1 @ 110 (+10); restart; sold 1 @ 120 (+20): 30 in the journal."""
    journal = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices({"AAPL": "100"})
        async with daemon_on(venue, journal) as first:
            await trade(first, "p-1", "buy", 2)
            await control.set_prices({"AAPL": "110"})
            await trade(first, "p-2", "sell", 1)
        async with daemon_on(venue, journal) as second:
            await control.set_prices({"AAPL": "120"})
            await trade(second, "p-3", "sell", 1)
    async with open_journal(journal) as book:
        position = (await book.positions())["AAPL"]
    assert (position.qty, position.realized_pnl) == (Decimal(0), Decimal(30))
