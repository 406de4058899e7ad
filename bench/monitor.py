"""Fill at the venue → the executor knowing it, with the order stream healthy and with it
down (REST polling only), and the REST calls each order costs in either case.

The paper venue runs as its own process (``tradingd sim``); the daemon runs here with the
default ``[monitor]`` timers. Each round rests one limit order (buys and sells alternate),
waits until the executor holds it as accepted, then moves the venue's price through it:

- fill → known: from the venue's ``filled_at`` to the moment the executor hands the fill
  to the journal (both wall clocks of this one machine);
- REST calls: the daemon's calls about orders from the signal to the fill (its POST
  included), and how many of them were lookups by client_order_id. Each order rests a
  random 0..``unhealthy_poll`` seconds before its fill, so fills land anywhere in the
  polling cycle.

"Stream down" points the daemon's order stream at a closed port, so it never connects and
every order is followed by polling alone.

    python bench/monitor.py [--orders N]
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import attrs
import msgspec
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import paper_broker, percentile, venue_process  # noqa: E402

from actors.records import (  # noqa: E402
    FillRecorded,
    JournalRecord,
    OrderStateRecorded,
    VenueCallRecorded,
)
from brokers.base import utc_now  # noqa: E402
from brokers.sim import SimControl, SimEndpoints  # noqa: E402
from daemon.config import Config, MonitorConfig  # noqa: E402
from daemon.credentials import load_credentials  # noqa: E402
from daemon.logs import configure_logging  # noqa: E402
from daemon.supervisor import Daemon, open_daemon  # noqa: E402

SYMBOL = "AAPL"
ROUND_LIMIT = 30.0  # seconds one round may take before the bench gives up


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}/stream"


@attrs.frozen
class RoundResult:
    fill_to_known: float
    rest_calls: int
    lookups: int


@attrs.define
class Rounds:
    daemon: Daemon
    venue: SimControl
    records: trio.MemoryReceiveChannel[JournalRecord]
    price: Decimal
    rest_before_fill: float  # the longest an order rests before its fill
    rng: random.Random = attrs.field(factory=lambda: random.Random(7))

    async def one(self, n: int) -> RoundResult:
        # Buys and sells alternate (the position goes back to flat), with a size of their
        # own per pair: RiskGuard refuses the same order twice within its duplicate window.
        side = "buy" if n % 2 == 0 else "sell"
        limit = self.price - 1 if side == "buy" else self.price + 1
        through = limit - Decimal("0.5") if side == "buy" else limit + Decimal("0.5")
        line = msgspec.json.encode(
            {
                "id": f"bench-{n}",
                "symbol": SYMBOL,
                "action": side,
                "qty": n // 2 + 1,
                "order_type": "limit",
                "limit_price": str(limit),
            }
        )
        calls: list[VenueCallRecorded] = []
        with trio.fail_after(ROUND_LIMIT):
            ack = await self.daemon.intake.submit(line, "bench")
            assert ack.status == "accepted", ack
            cid = await self._until_accepted(calls)
            # Fills come at any moment, not just after an acceptance: rest a random while so
            # the fill lands anywhere in the monitor's polling cycle.
            await trio.sleep(self.rng.uniform(0, self.rest_before_fill))
            await self.venue.set_prices({SYMBOL: through})
            await self._until_filled(cid, calls)
            known_at = utc_now()
            await self.venue.set_prices({SYMBOL: self.price})
            await self.daemon.activity.wait_idle()
            filled_at = await self._venue_fill_time(cid)
        # Account refreshes and the like are the daemon's, not this order's.
        about_orders = [c for c in calls if c.call.path.startswith("/v2/orders")]
        lookups = sum(1 for c in about_orders if "by_client_order_id" in c.call.path)
        known = (known_at - filled_at).total_seconds()
        return RoundResult(known, len(about_orders), lookups)

    async def _venue_fill_time(self, cid: str) -> datetime:
        for order in (await self.venue.state())["orders"]:
            if order["client_order_id"] == cid:
                return datetime.fromisoformat(order["filled_at"])
        raise RuntimeError(f"the venue does not know {cid}")

    async def _until_accepted(self, calls: list[VenueCallRecorded]) -> str:
        async for record in self.records:
            if isinstance(record, VenueCallRecorded):
                calls.append(record)
            elif isinstance(record, OrderStateRecorded) and record.state == "accepted":
                return record.client_order_id
        raise RuntimeError("journal watch ended")

    async def _until_filled(self, cid: str, calls: list[VenueCallRecorded]) -> None:
        async for record in self.records:
            if isinstance(record, VenueCallRecorded):
                calls.append(record)
            elif isinstance(record, FillRecorded) and record.client_order_id == cid:
                return
        raise RuntimeError("journal watch ended")


async def measure(endpoints: SimEndpoints, *, stream_down: bool, orders: int) -> list[RoundResult]:
    monitor = MonitorConfig(first_connect_grace=0.0) if stream_down else MonitorConfig()
    config = Config(
        broker=paper_broker(endpoints, closed_port_url() if stream_down else None),
        monitor=monitor,
    )
    credentials = load_credentials("paper", {}, None)
    with tempfile.TemporaryDirectory() as scratch:
        journal = str(Path(scratch) / "journal.sqlite3")
        async with (
            SimControl(endpoints) as venue,
            open_daemon(config, credentials, journal_path=journal) as daemon,
        ):
            with trio.fail_after(10):
                await daemon.prices.wait_for(SYMBOL)
            assert daemon.stream_healthy is not stream_down
            price = Decimal((await venue.state())["prices"][SYMBOL])
            with daemon.journal.watch() as records:
                rounds = Rounds(daemon, venue, records, price, monitor.unhealthy_poll)
                results = [await rounds.one(n) for n in range(orders)]
            daemon.stop()
    return results


async def main(orders: int) -> None:
    with venue_process() as endpoints:
        healthy = await measure(endpoints, stream_down=False, orders=orders)
    with venue_process() as endpoints:
        down = await measure(endpoints, stream_down=True, orders=orders)
    timers = MonitorConfig()
    print(
        f"monitor timers: unhealthy_poll {timers.unhealthy_poll} s, recheck {timers.recheck} s, "
        f"first_answer {timers.first_answer} s"
    )
    print("fill at the venue -> executor knows it (ms); REST calls about the order, per order")
    header = f"{'order stream':<14}{'n':>5}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
    print(f"{header}{'REST/order':>12}{'lookups/order':>15}")
    for name, results in (("healthy", healthy), ("down (REST)", down)):
        known = [r.fill_to_known * 1e3 for r in results]
        calls = sum(r.rest_calls for r in results) / len(results)
        lookups = sum(r.lookups for r in results) / len(results)
        print(
            f"{name:<14}{len(results):>5}{percentile(known, 50):>10.2f}"
            f"{percentile(known, 99):>10.2f}{max(known):>10.2f}"
            f"{calls:>12.2f}{lookups:>15.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    # The stream-down run logs every failed reconnect: keep the table readable.
    configure_logging("CRITICAL")
    trio.run(main, args.orders)
