"""A storm of 429s while orders go out: each order reaches the venue exactly once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.scenarios.daemon_on_sim import daemon_on_sim, signal

if TYPE_CHECKING:
    from pathlib import Path


async def test_429_storm_during_submits_sends_each_order_once(tmp_path: Path) -> None:
    """Refused submits and lookups are retried after the venue's hint; nothing doubles."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("http_status", status=429, count=6)
        await scenario.send(
            signal("r1", "AAPL", "buy", 3),
            signal("r2", "MSFT", "buy", 1),
            signal("r3", "AMD", "buy", 8),
        )
        state = await scenario.assert_definitive(orders=3)
        assert {o["status"] for o in state["orders"]} == {"filled"}
        assert scenario.daemon.positions() == {"AAPL": 3, "AMD": 8, "MSFT": 1}
