"""What `tradingd trades` costs as the journal grows, and what it costs everyone else.

`trades` rebuilds every trip from the fills. Measured side by side for each history size
(fills across 20 symbols: two scale-ins, a partial exit, a close per cycle):

- ``apart`` (what the control API does): read and rebuild on a read-only connection of
  their own in a worker thread (``Journal.read_apart``);
- ``inline`` (the alternative): the read on the journal's writer thread, the rebuild on
  the trio loop.

For each: the call's own time, the longest the trio loop went without running a 1 ms
ticker, and the slowest journal commit a concurrent writer saw during the call. Medians
over ``--runs``.

    python bench/trades.py [--sizes 1000,10000,100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.ids import client_order_id_for  # noqa: E402
from actors.position import ConfirmedPosition  # noqa: E402
from actors.records import (  # noqa: E402
    FillRecorded,
    IntentRecorded,
    JournalRecord,
    PositionRecorded,
    SignalRecorded,
)
from brokers.base import OrderRequest, Side, utc_now  # noqa: E402
from daemon.journal.store import Journal, open_journal  # noqa: E402
from daemon.journal.trades import read_closed_trips, read_trade_history  # noqa: E402
from daemon.trades import RoundTrip, openings_from, round_trips  # noqa: E402

SYMBOLS = [f"S{n:02d}" for n in range(20)]
# One cycle per symbol: two scale-ins, a partial exit, a close.
CYCLE = (
    (Side.BUY, 10, "entry"),
    (Side.BUY, 10, "entry"),
    (Side.SELL, 5, "entry"),
    (Side.SELL, 15, "close"),
)


def history(fills: int) -> list[JournalRecord]:
    start = utc_now()
    positions = {symbol: ConfirmedPosition() for symbol in SYMBOLS}
    records: list[JournalRecord] = []
    for n in range(fills):
        symbol = SYMBOLS[n % len(SYMBOLS)]
        side, qty, leg = CYCLE[(n // len(SYMBOLS)) % len(CYCLE)]
        cid = client_order_id_for(f"bench-{n}", leg)
        price = Decimal(100 + n % 37) + Decimal("0.25")
        at = start + timedelta(milliseconds=n)
        request = OrderRequest(client_order_id=cid, symbol=symbol, side=side, qty=Decimal(qty))
        position = positions[symbol]
        position.apply_fill(side, Decimal(qty), price)
        records += [
            IntentRecorded(at=at, signal_id=f"bench-{n}", leg=leg, request=request),
            FillRecorded(
                at=at,
                client_order_id=cid,
                symbol=symbol,
                side=side,
                execution_id=f"x-{n}",
                qty=Decimal(qty),
                price=price,
            ),
            PositionRecorded(
                at=at,
                symbol=symbol,
                qty=position.qty,
                avg_entry_price=position.avg_entry_price,
                realized_pnl=position.realized_pnl,
            ),
        ]
    return records


async def apart(journal: Journal) -> list[RoundTrip]:
    return await journal.read_apart(
        lambda conn: read_closed_trips(conn, None, None, None, limit=10**9)
    )


async def inline(journal: Journal) -> list[RoundTrip]:
    # The alternative measured: the journal's own reader (its writer thread), then the
    # rebuild on the loop. Reaching the private reader is for this comparison only.
    found = await journal._read(lambda conn: read_trade_history(conn, None))
    return round_trips(found.fills, found.kinds, openings_from(found.positions, found.fills))


Mode = Callable[[Journal], Awaitable[list[RoundTrip]]]


async def one_call(journal: Journal, mode: Mode) -> tuple[float, float, float, int]:
    """The call's time, the loop's longest stall and the slowest concurrent commit."""
    stall = commit = 0.0
    done = False

    async def ticker() -> None:
        nonlocal stall
        while not done:
            before = time.perf_counter()
            await trio.sleep(0.001)
            stall = max(stall, time.perf_counter() - before - 0.001)

    async def writer() -> None:
        nonlocal commit
        n = 0
        while not done:
            n += 1
            record = SignalRecorded(
                at=utc_now(), signal_id=f"w-{n}", source="bench", raw="{}", status="accepted"
            )
            before = time.perf_counter()
            await journal.commit(record)
            commit = max(commit, time.perf_counter() - before)
            await trio.sleep(0.002)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        nursery.start_soon(writer)
        await trio.sleep(0.05)
        began = time.perf_counter()
        trips = await mode(journal)
        took = time.perf_counter() - began
        done = True
    return took, stall, commit, len(trips)


async def measure(size: int, runs: int) -> list[tuple[str, float, float, float, int]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="tradingd-bench-") as folder:
        async with open_journal(Path(folder) / "journal.sqlite3") as journal:
            records = history(size)
            for start in range(0, len(records), 3000):
                await journal.commit(*records[start : start + 3000])
            samples: dict[str, list[tuple[float, float, float, int]]] = {"apart": [], "inline": []}
            for _ in range(runs):
                # Interleaved, so both modes see the same machine load.
                samples["apart"].append(await one_call(journal, apart))
                samples["inline"].append(await one_call(journal, inline))
            for name, runs_of in samples.items():
                took, stall, commit, trips = (
                    statistics.median(sample[i] for sample in runs_of) for i in range(4)
                )
                results.append((name, took, stall, commit, int(trips)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| fills | trips | mode | trades call | longest loop stall | slowest commit meanwhile |")
    print("|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        for name, took, stall, commit, trips in trio.run(measure, size, args.runs):
            print(
                f"| {size} | {trips} | {name} | {took * 1e3:.0f} ms | {stall * 1e3:.1f} ms "
                f"| {commit * 1e3:.1f} ms |"
            )


if __name__ == "__main__":
    main()
