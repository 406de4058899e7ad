"""Order pacing and the runaway breaker with the default ``[risk]`` rates, in real time.

The paper venue runs as its own process (``tradingd sim``, its ten reference symbols), a
fresh one per row, with a fresh daemon and journal here. Rows:

- ``basket N``: N market buys of one share spread over the ten symbols, sent at once (each
  awaiting its ack, as one source sends): every one should fill, paced at
  ``max_orders_per_second``, the breaker untouched;
- ``loop R/s``: buys offered at R a second on one symbol, whatever the answers take (a
  runaway strategy): the breaker should trip with at most a minute's allowance sent;
- ``flapping R/s``: buy, sell, buy, sell at R a second on one symbol.

Columns: signals offered, orders filled, time from the first signal to the last fill,
venue REST requests in the busiest minute (every call the daemon made: orders, account
reads, lookups; the default request budget of 200 a minute is on), and whether the
breaker tripped. The duplicate-order window is off: these
rows repeat the same one-share orders on purpose.

    python bench/pacing.py [--baskets 30,100] [--loop-rate 1000] [--flap-rate 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import attrs
import msgspec
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import paper_broker, venue_process  # noqa: E402

from actors.records import FillRecorded, JournalRecord, VenueCallRecorded  # noqa: E402
from actors.risk.limits import RiskLimits  # noqa: E402
from daemon.config import ALPACA_REQUESTS_PER_MINUTE, Config, SourcesConfig  # noqa: E402
from daemon.credentials import load_credentials  # noqa: E402
from daemon.logs import configure_logging  # noqa: E402
from daemon.supervisor import Daemon, open_daemon  # noqa: E402

SYMBOLS = ("AAPL", "MSFT", "SPY", "QQQ", "TSLA", "NVDA", "AMZN", "GOOGL", "META", "AMD")
LIMITS = RiskLimits(duplicate_window=0.0)
ROW_LIMIT = 180.0  # seconds one row may take before the bench gives up


@attrs.frozen
class Row:
    name: str
    offered: int
    filled: int
    last_fill: float | None
    peak_requests_per_minute: int
    breaker: str


@attrs.define
class Watched:
    """Fill and venue-call times (trio clock), read off the journal as they are written."""

    fills: list[float] = attrs.field(factory=list)
    calls: list[float] = attrs.field(factory=list)

    async def follow(self, records: trio.MemoryReceiveChannel[JournalRecord]) -> None:
        async for record in records:
            if isinstance(record, FillRecorded):
                self.fills.append(trio.current_time())
            elif isinstance(record, VenueCallRecorded):
                self.calls.append(trio.current_time())

    def peak_per_minute(self) -> int:
        calls = sorted(self.calls)
        return max((sum(1 for u in calls if t <= u < t + 60) for t in calls), default=0)


def body(sid: str, symbol: str, side: str) -> bytes:
    return msgspec.json.encode({"id": sid, "symbol": symbol, "action": side, "qty": 1})


async def send_each(daemon: Daemon, lines: list[bytes]) -> None:
    for line in lines:
        await daemon.intake.submit(line, "bench")


async def offer_at(daemon: Daemon, lines: list[bytes], per_second: int) -> None:
    batch = max(1, per_second // 10)
    async with trio.open_nursery() as nursery:
        for start in range(0, len(lines), batch):
            nursery.start_soon(send_each, daemon, lines[start : start + batch])
            await trio.sleep(batch / per_second)


async def run_row(name: str, lines: list[bytes], per_second: int | None) -> Row:
    with venue_process() as ready, tempfile.TemporaryDirectory() as scratch:
        config = Config(
            # Pacing is measured as a user runs it: the default request budget on.
            broker=paper_broker(ready, requests_per_minute=ALPACA_REQUESTS_PER_MINUTE),
            risk=LIMITS,
            sources=SourcesConfig(stdin=False, socket=False),
        )
        credentials = load_credentials("paper", {}, None)
        journal = str(Path(scratch) / "journal.sqlite3")
        watched = Watched()
        async with open_daemon(config, credentials, journal_path=journal) as daemon:
            with trio.fail_after(ROW_LIMIT):
                for symbol in SYMBOLS:
                    await daemon.prices.wait_for(symbol)
                with daemon.journal.watch() as records:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(watched.follow, records)
                        start = trio.current_time()
                        if per_second is None:
                            await send_each(daemon, lines)
                        else:
                            await offer_at(daemon, lines, per_second)
                        await daemon.activity.wait_idle()
                        await daemon.journal.flush()
                        await trio.sleep(0.2)  # the last records reach the watch
                        nursery.cancel_scope.cancel()
                runaway = daemon.risk.runaway
            daemon.stop()
    last = max(watched.fills) - start if watched.fills else None
    return Row(
        name,
        len(lines),
        len(watched.fills),
        last,
        watched.peak_per_minute(),
        "tripped" if runaway is not None else "-",
    )


async def main(baskets: list[int], loop_rate: int, flap_rate: int) -> None:
    rows: list[Row] = []
    for size in baskets:
        lines = [body(f"basket-{i}", SYMBOLS[i % len(SYMBOLS)], "buy") for i in range(size)]
        rows.append(await run_row(f"basket {size}", lines, None))
    loop = [body(f"loop-{i}", "AAPL", "buy") for i in range(loop_rate * 2)]
    rows.append(await run_row(f"loop {loop_rate}/s", loop, loop_rate))
    flap = [
        body(f"flap-{i}", "AAPL", "buy" if i % 2 == 0 else "sell") for i in range(flap_rate * 10)
    ]
    rows.append(await run_row(f"flapping {flap_rate}/s", flap, flap_rate))
    print(
        f"{'row':<16}{'offered':>9}{'filled':>8}{'last fill s':>13}"
        f"{'venue req/min':>15}{'breaker':>9}"
    )
    for row in rows:
        last = "-" if row.last_fill is None else f"{row.last_fill:.2f}"
        print(
            f"{row.name:<16}{row.offered:>9}{row.filled:>8}{last:>13}"
            f"{row.peak_requests_per_minute:>15}{row.breaker:>9}"
        )
    print(
        f"caps: {LIMITS.max_orders_per_second}/s, {LIMITS.max_orders_per_minute}/min; "
        f"breaker: backlog {LIMITS.breaker_backlog or LIMITS.max_orders_per_minute}, "
        f"{LIMITS.breaker_ratio}x the per-second cap for {LIMITS.breaker_seconds:g}s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baskets", default="30,100")
    parser.add_argument("--loop-rate", type=int, default=1000)
    parser.add_argument("--flap-rate", type=int, default=50)
    args = parser.parse_args()
    configure_logging("ERROR")
    sizes = [int(s) for s in args.baskets.split(",") if s]
    trio.run(main, sizes, args.loop_rate, args.flap_rate)
