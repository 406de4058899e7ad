"""Partial fills, then a cancel: every partial fill counts once, the cancel ends the order
with what it filled, and the position follows the fills exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tests.scenarios.daemon_on_sim import daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path


async def test_partial_fills_then_cancel_keep_the_filled_part(tmp_path: Path) -> None:
    """A limit buy fills 3 + 3 of 10, a close cancels the rest and sells the 6 it holds."""
    async with daemon_on_sim(tmp_path, fill_size=Decimal(3)) as scenario:
        await scenario.venue.fault("duplicate_events")
        await scenario.send(signal("p1", "AAPL", "buy", 10, order_type="limit", limit_price="99"))
        await scenario.until(reached("accepted"))
        await scenario.venue.set_prices({"AAPL": "98.50"})
        await scenario.until(reached("partially_filled", filled_qty=3))
        await scenario.venue.set_prices({"AAPL": "98.40"})
        await scenario.until(reached("partially_filled", filled_qty=6))
        (ack,) = await scenario.send(signal("p2", "AAPL", "close"))
        assert ack.status == "accepted"
        await scenario.until(reached("canceled", filled_qty=6))
        # The close's market sell of 6 fills 3 per match (the buy was the first order to
        # stand at 3 filled, the sell is the second): one more price move finishes it.
        await scenario.until(reached("partially_filled", count=2, filled_qty=3))
        await scenario.venue.set_prices({"AAPL": "98.30"})
        state = await scenario.assert_definitive(orders=2)
        assert sorted(o["status"] for o in state["orders"]) == ["canceled", "filled"]
        assert scenario.daemon.positions() == {}
        assert sorted(scenario.fills().values()) == [6, 6]
