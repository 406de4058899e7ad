"""A venue answering 429 with Retry-After to the daemon's first request: the daemon waits it
out, sends nothing non-urgent in the meantime, and then starts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from brokers.sim import SimConfig, SimControl, running_sim
from daemon.config import BrokerConfig, Config
from daemon.credentials import load_credentials
from daemon.supervisor import open_daemon
from tests.scenarios.daemon_on_sim import FAST, PRICES

if TYPE_CHECKING:
    from pathlib import Path

    import trio

RETRY_AFTER = 30


async def test_a_429_with_retry_after_at_startup_is_waited_out_before_anything_else(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The startup reads go together, the first is refused for 30 s: no request reaches the
    venue after that batch until 30 s have passed, and the daemon starts."""
    async with (
        running_sim(SimConfig(prices=dict(PRICES))) as endpoints,
        SimControl(endpoints) as venue,
    ):
        await venue.fault("http_status", status=429, count=1, retry_after=RETRY_AFTER)
        config = Config(
            broker=BrokerConfig(
                kind="paper",
                base_url=endpoints.alpaca_url,
                stream_url=endpoints.stream_url,
                data_url=endpoints.data_url,
            ),
            monitor=FAST,
        )
        credentials = load_credentials("paper", {}, None)
        journal = str(tmp_path / "journal.sqlite3")
        # No deadline around the start: the journal's thread is no task, so the autojump
        # clock would run any deadline out while the journal opens.
        async with open_daemon(config, credentials, journal_path=journal) as daemon:
            assert daemon.startup is not None
            daemon.stop()
        state = await venue.state()
    arrivals = [datetime.fromisoformat(at) for at in state["requests"]]
    after_first = [(at - arrivals[0]).total_seconds() for at in arrivals]
    # The reads sent with the refused one left before its answer came back; every later
    # one waited the 30 s out.
    assert after_first[1:]
    assert all(s == 0.0 or s >= RETRY_AFTER for s in after_first), after_first
    assert any(s >= RETRY_AFTER for s in after_first)
