"""A steady flow starves nothing: fills landing while the account is read never leave the
account stale, and fills in flight while positions are compared are never drift.

The flow is a plain schedule (no randomness): every 1/``RATE`` seconds one signal, the symbols
in turn, each symbol buying one share and selling it back on alternate rounds. The order-rate
caps, the request budget and the duplicate-order window are lifted so pacing is not what is
measured; account reads and drift checks happen while orders are working.

The daemon runs in-process against the paper venue over real loopback sockets, under the
autojump clock; the clock jumps only after a fiftieth of a real second with nothing to do,
so a loopback round trip or a journal commit finishes before a timer is moved past it.
"""

from __future__ import annotations

from collections import Counter
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
import trio

from actors.records import DriftRecorded, JournalRecord, RiskDenied
from actors.risk.limits import RiskLimits
from brokers.sim import SimConfig, SimControl, running_sim
from brokers.sim.core.assets import REFERENCE_PRICES
from daemon.config import BrokerConfig, Config
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon
from tests.scenarios.daemon_on_sim import FAST, SETTLE_LIMIT, signal

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

SYMBOLS = sorted(REFERENCE_PRICES)[:8]
RATE = 20  # signals (one order each) a second, over every symbol
REST_LATENCY_MS = 60
UNPACED = RiskLimits(
    max_orders_per_second=None,
    max_orders_per_minute=None,
    max_open_orders=None,
    duplicate_window=0,
    # Tight enough that dropped snapshots show within the short run (they were dropped
    # from the flow's first fill on), loose enough that the autojump clock's jumps while the
    # journal's thread writes (it is no trio task) never age a kept one past it.
    account_refresh_interval=1.0,
    max_account_age=10.0,
)


@asynccontextmanager
async def steady_daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with running_sim(SimConfig()) as endpoints, SimControl(endpoints) as venue:
        # A venue a network away: fills and acks stream in while an account or a
        # positions read is answered, as they do against a real broker.
        await venue.fault("rest_latency", ms=REST_LATENCY_MS)
        broker = BrokerConfig(
            kind="paper",
            base_url=endpoints.alpaca_url,
            stream_url=endpoints.stream_url,
            data_url=endpoints.data_url,
            # 20 orders a second is six times Alpaca's budget: lifted with the order caps.
            requests_per_minute="unlimited",
        )
        config = Config(broker=broker, monitor=FAST, risk=UNPACED)
        credentials = load_credentials("paper", {}, None)
        journal = str(tmp_path / "journal.sqlite3")
        async with open_daemon(config, credentials, journal_path=journal) as daemon:
            with trio.fail_after(SETTLE_LIMIT):
                for symbol in SYMBOLS:
                    await daemon.prices.wait_for(symbol)
            yield daemon
            daemon.stop()


async def steady_flow(tmp_path: Path, seconds: int) -> None:
    """``seconds`` of the flow: every signal accepted, none denied `account_stale`, no
    drift recorded, and the venue flat at the end as tradingd is."""
    async with steady_daemon(tmp_path) as daemon:
        with daemon.journal.watch() as records:
            start = trio.current_time()
            statuses: dict[str, int] = {}
            # Whole rounds of a buy and a sell per symbol: flat at the end.
            count = seconds * RATE // (2 * len(SYMBOLS)) * (2 * len(SYMBOLS))
            for tick in range(count):
                await trio.sleep_until(start + tick / RATE)
                symbol = SYMBOLS[tick % len(SYMBOLS)]
                side = "buy" if (tick // len(SYMBOLS)) % 2 == 0 else "sell"
                line = signal(f"s{tick}", symbol, side, 1)
                with trio.fail_after(SETTLE_LIMIT):
                    ack = await daemon.intake.submit(line, "test")
                statuses[ack.status] = statuses.get(ack.status, 0) + 1
            with trio.fail_after(SETTLE_LIMIT):
                await daemon.activity.wait_idle()
            # A last drift check after the flow, at the Reconciler's own pace.
            await trio.sleep(FLOW_TAIL)
            await daemon.journal.flush()
            seen: list[JournalRecord] = []
            while True:
                try:
                    seen.append(records.receive_nowait())
                except trio.WouldBlock:
                    break
        denied = Counter(r.code for r in seen if isinstance(r, RiskDenied))
        assert denied == {}
        assert statuses == {"accepted": count}
        assert [r for r in seen if isinstance(r, DriftRecorded)] == []
        assert daemon.positions() == {}
        assert daemon.unresolved() == 0


# Long enough for the drift checks after the last final order to run.
FLOW_TAIL = 5.0


@pytest.fixture
def clock(autojump_clock: trio.testing.MockClock) -> trio.testing.MockClock:
    autojump_clock.autojump_threshold = 0.002
    return autojump_clock


async def test_a_short_steady_flow_is_never_stale_and_never_drift(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Fifteen seconds at 20 orders a second on 8 symbols: nothing denied, no drift."""
    await steady_flow(tmp_path, 15)


@pytest.mark.slow
async def test_ten_minutes_of_steady_fills_deny_nothing_stale_and_report_no_drift(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    """Ten minutes at 20 orders a second on 8 symbols: nothing denied `account_stale`, no
    drift reported."""
    await steady_flow(tmp_path, 600)
