"""The order stream drops while orders fill or are canceled: the events sent meanwhile are
lost for good, and only the REST re-sync after the reconnect can tell what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.records import VenueCallRecorded
from daemon.config import MonitorConfig
from tests.scenarios.daemon_on_sim import Scenario, daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path

# Polling and rechecks far beyond the test's patience: the re-sync alone must find the fills.
RESYNC_ONLY = MonitorConfig(
    first_answer=0.5, recheck=600.0, unhealthy_poll=600.0, lookups_per_second=50.0
)


def lookups(scenario: Scenario) -> int:
    return sum(
        1
        for r in scenario.seen
        if isinstance(r, VenueCallRecorded) and "by_client_order_id" in r.call.path
    )


async def test_stream_dropped_mid_fill_is_healed_by_the_resync(tmp_path: Path) -> None:
    """Resting orders fill while the stream is down; the re-sync finds every fill once."""
    async with daemon_on_sim(tmp_path, monitor=RESYNC_ONLY) as scenario:
        await scenario.send(
            signal("f1", "AAPL", "buy", 4, order_type="limit", limit_price="99"),
            signal("f2", "MSFT", "sell", 2, order_type="limit", limit_price="201"),
            signal("f3", "AMD", "buy", 9, order_type="limit", limit_price="49"),
        )
        await scenario.until(reached("accepted", 3))
        await scenario.venue.fault("drop_stream")
        await scenario.venue.set_prices({"AAPL": "98.50", "MSFT": "201.50", "AMD": "48.50"})
        await scenario.assert_definitive(orders=3)
        assert scenario.daemon.positions() == {"AAPL": 4, "AMD": 9, "MSFT": -2}
        assert lookups(scenario) >= 3
        assert scenario.daemon.stream_healthy


async def test_cancel_while_the_stream_is_down_is_learned_by_rest(tmp_path: Path) -> None:
    """A close cancels a working order while its events are lost: the order still ends
    canceled, the close then finds the position flat and sends nothing."""
    async with daemon_on_sim(tmp_path, monitor=RESYNC_ONLY) as scenario:
        await scenario.send(signal("c1", "AAPL", "buy", 4, order_type="limit", limit_price="90"))
        await scenario.until(reached("accepted"))
        await scenario.venue.fault("drop_stream")
        (ack,) = await scenario.send(signal("c2", "AAPL", "close"))
        assert ack.status == "accepted"
        state = await scenario.assert_definitive(orders=1)
        assert [o["status"] for o in state["orders"]] == ["canceled"]
        states = scenario.journaled_states()
        assert list(states.values()) == [["sending", "accepted", "pending_cancel", "canceled"]]
        assert scenario.daemon.positions() == {}
