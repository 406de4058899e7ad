"""The order stream stays connected but falls silent for a minute while orders fill: the
monitor's per-order deadlines look them up by REST, well before the stream speaks again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.scenarios.daemon_on_sim import daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path


async def test_stream_stalled_for_a_minute_while_fills_happen(tmp_path: Path) -> None:
    """Fills during a 60 s stall are learned by lookup at each order's deadline."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("s1", "AMD", "buy", 5, order_type="limit", limit_price="49"))
        await scenario.until(reached("accepted"))
        await scenario.venue.fault("stall_stream", seconds=60)
        # A resting order fills, and new orders go out and fill, all while nothing streams.
        await scenario.venue.set_prices({"AMD": "48.50"})
        await scenario.send(signal("s2", "AAPL", "buy", 3), signal("s3", "MSFT", "sell", 2))
        await scenario.assert_definitive(orders=3)
        assert scenario.daemon.positions() == {"AAPL": 3, "AMD": 5, "MSFT": -2}
        # Nothing noticed the silence as a disconnect: the deadlines did the work.
        assert scenario.daemon.stream_healthy
