"""Every stream event sent twice: each fill counts once, every order ends final."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tests.scenarios.daemon_on_sim import daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path


async def test_every_event_duplicated_counts_each_fill_once(tmp_path: Path) -> None:
    """With the venue sending every event twice, fills, positions and states stay exact."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("duplicate_events")
        acks = await scenario.send(
            signal("d1", "AAPL", "buy", 10),
            signal("d2", "MSFT", "buy", 3),
            signal("d3", "AAPL", "sell", 4),
            signal("d4", "AMD", "buy", 7, order_type="limit", limit_price="49"),
        )
        assert [a.status for a in acks] == ["accepted"] * 4
        # The resting limit order fills on a price move, its events duplicated too.
        await scenario.until(reached("accepted", 4))
        await scenario.venue.set_prices({"AMD": "48.50"})
        await scenario.assert_definitive(orders=4)
        assert scenario.daemon.positions() == {
            "AAPL": Decimal(6),
            "AMD": Decimal(7),
            "MSFT": Decimal(3),
        }
        assert sorted(scenario.fills().values()) == [3, 4, 7, 10]
