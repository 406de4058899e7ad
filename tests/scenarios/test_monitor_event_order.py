"""Events in an unexpected order: the venue streams an order's fill before the answer to
its POST arrives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.scenarios.daemon_on_sim import daemon_on_sim, signal

if TYPE_CHECKING:
    from pathlib import Path


async def test_fill_streamed_before_the_submit_answer_is_counted_once(tmp_path: Path) -> None:
    """The late POST answer (status new) neither undoes the fill nor counts it again."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("delay_acks", ms=200)
        await scenario.send(
            signal("o1", "AAPL", "buy", 6),
            signal("o2", "MSFT", "buy", 1),
            signal("o3", "AAPL", "sell", 2),
        )
        await scenario.assert_definitive(orders=3)
        assert scenario.daemon.positions() == {"AAPL": 4, "MSFT": 1}
        for path in scenario.journaled_states().values():
            assert path[-1] == "filled", path


async def test_fill_streamed_before_its_new_ends_filled(tmp_path: Path) -> None:
    """A fill that arrives before the order's `new` (and before the POST answer) ends the
    order filled; the late `new` and answer are absorbed."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("reorder_events")
        await scenario.venue.fault("delay_acks", ms=200)
        await scenario.send(signal("n1", "AAPL", "buy", 6), signal("n2", "AMD", "sell", 3))
        await scenario.assert_definitive(orders=2)
        assert scenario.daemon.positions() == {"AAPL": 6, "AMD": -3}
        for path in scenario.journaled_states().values():
            assert path == ["sending", "filled"], path
