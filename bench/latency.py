"""Signal → venue-ack latency of the daemon, against a bare httpx POST of the same order.

Both run in one process against the same paper venue (started as a separate process with
``tradingd sim``), interleaved one by one so machine noise hits both alike:

- bare: ``POST /v2/orders`` with a pooled httpx.AsyncClient, timed to its response;
- daemon: a signal line handed to the daemon's intake (as the stdin source does), timed to
  the moment the daemon holds the venue's answer to its own POST (its audit record).

Each order runs alone: the daemon settles (its fill handled) before the bare POST, and the
bare order's stream events are handled before the daemon's signal is sent.

Prints a table of p50/p99 and ends with ``p50 ratio: X.XX`` (daemon / bare).

    python bench/latency.py [--orders N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
import trio
import trio.testing

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import UNPACED, paper_broker, percentile, venue_process  # noqa: E402

from actors.records import RiskDenied, VenueCallRecorded  # noqa: E402
from daemon.config import Config  # noqa: E402
from daemon.credentials import load_credentials  # noqa: E402
from daemon.logs import configure_logging  # noqa: E402
from daemon.supervisor import Daemon, open_daemon  # noqa: E402

HEADERS = {"APCA-API-KEY-ID": "paper", "APCA-API-SECRET-KEY": "paper"}


async def bare_post(client: httpx.AsyncClient, n: int, side: str) -> float:
    body = {
        "symbol": "MSFT",
        "qty": "1",
        "side": side,
        "type": "market",
        "time_in_force": "day",
        "client_order_id": f"bare-{n}",
    }
    start = time.perf_counter()
    response = await client.post("/v2/orders", content=msgspec.json.encode(body))
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


async def daemon_signal(
    daemon: Daemon, watch: trio.MemoryReceiveChannel[object], n: int, side: str
) -> float:
    line = msgspec.json.encode({"id": f"bench-{n}", "symbol": "AAPL", "action": side, "qty": 1})
    reply, answer = trio.open_memory_channel[object](1)
    start = time.perf_counter()
    await daemon.intake.send(line, "bench", reply)
    async for record in watch:
        if isinstance(record, RiskDenied):
            raise RuntimeError(f"the daemon denied the benchmark's order: {record.code}")
        if isinstance(record, VenueCallRecorded) and record.call.method == "POST":
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError("journal watch ended")
    ack = await answer.receive()
    if getattr(ack, "status", None) != "accepted":
        raise RuntimeError(f"the daemon did not accept the benchmark's signal: {ack}")
    await daemon.activity.wait_idle()  # the fill is in: the next signal is not queued
    return elapsed


async def main(orders: int) -> None:
    with venue_process() as ready, tempfile.TemporaryDirectory() as scratch:
        config = Config(
            broker=paper_broker(ready),
            risk=UNPACED,
        )
        credentials = load_credentials("paper", {}, None)
        journal = str(Path(scratch) / "journal.sqlite3")
        async with (
            open_daemon(config, credentials, journal_path=journal) as daemon,
            httpx.AsyncClient(base_url=ready.alpaca_url, headers=HEADERS) as client,
        ):
            with trio.fail_after(10):
                await daemon.prices.wait_for("AAPL")
            bare: list[float] = []
            ours: list[float] = []
            with daemon.journal.watch() as watch:
                for n in range(orders + 20):
                    side = "buy" if n % 2 == 0 else "sell"
                    b = await bare_post(client, n, side)
                    # The bare order's stream events reach the daemon too (as an external
                    # order): let them be handled before timing the daemon, so each path is
                    # measured alone.
                    await trio.testing.wait_all_tasks_blocked(cushion=0.005)
                    d = await daemon_signal(daemon, watch, n, side)
                    if n >= 20:  # the first rounds warm connections and caches
                        bare.append(b)
                        ours.append(d)
            daemon.stop()
    rows = [("bare httpx POST", bare), ("daemon signal → venue ack", ours)]
    print(f"{'path':<28}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    for name, samples in rows:
        p50, p99 = percentile(samples, 50) * 1e3, percentile(samples, 99) * 1e3
        print(f"{name:<28}{len(samples):>6}{p50:>10.3f}{p99:>10.3f}")
    ratio = percentile(ours, 50) / percentile(bare, 50)
    print(f"p50 ratio: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args()
    # External orders (the bare POSTs) are reported by the Reconciler: keep that quiet here.
    configure_logging("ERROR")
    trio.run(main, args.orders)
