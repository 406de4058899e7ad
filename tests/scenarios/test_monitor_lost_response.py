"""The venue accepted the order but its HTTP answer never arrived (incident 003's class of
failure): the order is looked up by client_order_id, never sent twice, never "timed out"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.scenarios.daemon_on_sim import daemon_on_sim, signal

if TYPE_CHECKING:
    from pathlib import Path


async def test_lost_response_with_the_stream_up_is_never_resubmitted(tmp_path: Path) -> None:
    """The fill streams in; the lost answer makes the order unknown, then it is looked up."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("lose_response", count=2)
        await scenario.send(signal("l1", "AAPL", "buy", 5), signal("l2", "MSFT", "buy", 2))
        await scenario.assert_definitive(orders=2)
        assert scenario.daemon.positions() == {"AAPL": 5, "MSFT": 2}


async def test_lost_response_with_the_stream_down_is_resolved_by_lookup(tmp_path: Path) -> None:
    """With no stream at all, the lookup alone tells the order filled: it is not resent."""
    async with daemon_on_sim(tmp_path, stream_down=True) as scenario:
        assert not scenario.daemon.stream_healthy
        await scenario.venue.fault("lose_response", count=2)
        await scenario.send(signal("l1", "AAPL", "buy", 5), signal("l2", "AAPL", "sell", 5))
        await scenario.assert_definitive(orders=2)
        states = scenario.journaled_states()
        assert all("unknown" in path for path in states.values()), states
        assert scenario.daemon.positions() == {}
