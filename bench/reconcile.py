"""The startup reconciliation gate with a busy account: 1,000 positions and 1,000 open orders.

The venue runs as its own ``tradingd sim`` process, listing 1,000 symbols. A daemon first
trades the account into shape through its intake (per symbol a market buy that fills and a
limit buy far below the price that rests), so the journal knows every position and every
order, as after a normal run. Then the daemon is started again on that journal and venue,
``--runs`` times, each timed from the call that opens it to the moment it is ready (the gate
passed, every actor started: signals are accepted from here on). A second case starts on an
empty journal (a new machine, or a journal lost): every venue position is then unexplained.

Prints one row per case: the median, min and max of the runs, in milliseconds, and the
median of the gate's reads alone (positions, open orders, assets, account, intent lookups).

    python bench/reconcile.py [--symbols 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import paper_broker, venue_process  # noqa: E402

from actors.reconciler.core import PendingIntent  # noqa: E402
from actors.reconciler.startup_reads import load_startup_state  # noqa: E402
from actors.risk.limits import RiskLimits  # noqa: E402
from brokers.alpaca import AlpacaBroker  # noqa: E402
from brokers.sim import SimControl, SimEndpoints  # noqa: E402
from daemon.config import Config, MonitorConfig  # noqa: E402
from daemon.credentials import load_credentials  # noqa: E402
from daemon.journal.store import open_journal  # noqa: E402
from daemon.logs import configure_logging  # noqa: E402
from daemon.supervisor import open_daemon  # noqa: E402

LETTERS = "ABCDEFGHIJ"
PRICE = "100.00"
RESTING_LIMIT = "50.00"
SUBMITTERS = 16


def symbols(count: int) -> list[str]:
    names = [f"Z{a}{b}{c}" for a in LETTERS for b in LETTERS for c in LETTERS]
    if count > len(names):
        raise SystemExit(f"at most {len(names)} symbols")
    return names[:count]


def scenario_text(names: list[str]) -> str:
    prices = "\n".join(f'{s} = "{PRICE}"' for s in names)
    return f'seed = 7\ncash = "1000000000"\n\n[prices]\n{prices}\n'


def config_for(venue: SimEndpoints) -> Config:
    return Config(
        broker=paper_broker(venue),
        # If the order stream drops under the seeding burst, REST lookups take over: let
        # them keep pace with 2,000 orders.
        monitor=MonitorConfig(lookups_per_second=1000.0),
        # Seeding sends 2,000 orders in seconds: the pace and open-order limits would stop it.
        risk=RiskLimits(
            duplicate_window=0.0,
            max_orders_per_second=None,
            max_orders_per_minute=None,
            max_open_orders=100_000,
            max_gross_exposure=Decimal(1000),
            max_net_exposure=Decimal(1000),
        ),
    )


async def seed_account(venue: SimEndpoints, journal: str, names: list[str]) -> None:
    """Per symbol: one filled market buy and one resting limit buy, sent by the daemon."""
    credentials = load_credentials("paper", {}, None)
    async with open_daemon(config_for(venue), credentials, journal_path=journal) as daemon:
        with trio.fail_after(60):
            await daemon.prices.wait_for(names[-1])
        lines = []
        for symbol in names:
            buy = {"id": f"seed-{symbol}-buy", "symbol": symbol, "action": "buy", "qty": 1}
            rest = {
                "id": f"seed-{symbol}-rest",
                "symbol": symbol,
                "action": "buy",
                "qty": 1,
                "order_type": "limit",
                "limit_price": RESTING_LIMIT,
                "time_in_force": "gtc",
            }
            lines += [msgspec.json.encode(buy), msgspec.json.encode(rest)]
        queue_send, queue_recv = trio.open_memory_channel[bytes](len(lines))
        for line in lines:
            queue_send.send_nowait(line)
        queue_send.close()

        async def submitter() -> None:
            async for line in queue_recv:
                ack = await daemon.intake.submit(line, "bench")
                if ack.status != "accepted":
                    raise RuntimeError(f"seeding refused: {ack}")

        async with trio.open_nursery() as nursery:
            for _ in range(SUBMITTERS):
                nursery.start_soon(submitter)
        # The resting orders keep their symbols busy for good: watch the journal instead
        # (the venue's whole state is too heavy to poll while it works).
        with trio.fail_after(600):
            while True:
                states = Counter(o.state for o in await daemon.journal.orders())
                if states["filled"] == states["accepted"] == len(names):
                    break
                await trio.sleep(0.5)
        await daemon.journal.flush()
        daemon.stop()


def venue_control(venue: SimEndpoints) -> SimControl:
    # The venue's whole state with thousands of orders takes a while on a busy machine.
    return SimControl(venue, httpx.AsyncClient(timeout=60))


async def account_shape(control: SimControl) -> tuple[int, int]:
    """(positions held, orders open) at the venue."""
    state = await control.state()
    held = sum(1 for p in state["positions"] if Decimal(p["qty"]))
    working = sum(1 for o in state["orders"] if o["status"] in ("new", "accepted"))
    return held, working


async def time_startup(venue: SimEndpoints, journal: str) -> float:
    """Seconds from opening the daemon to its being ready."""
    credentials = load_credentials("paper", {}, None)
    start = time.perf_counter()
    async with open_daemon(config_for(venue), credentials, journal_path=journal) as daemon:
        elapsed = time.perf_counter() - start
        daemon.stop()
    return elapsed


async def time_gate_reads(venue: SimEndpoints, journal: str) -> float:
    """Seconds of the gate's venue reads alone, with the journal's positions and intents."""
    async with open_journal(journal) as book:
        positions = {s: p.qty for s, p in (await book.positions()).items()}
        intents = [
            PendingIntent(request=row.request, created_at=row.created_at)
            for row in await book.unresolved_intents()
        ]
    broker = AlpacaBroker(
        base_url=venue.alpaca_url,
        stream_url=venue.stream_url,
        key_id="paper",
        secret_key="paper",
    )
    async with broker:
        start = time.perf_counter()
        await load_startup_state(broker, positions, intents)
        return time.perf_counter() - start


async def main(count: int, runs: int) -> None:
    names = symbols(count)
    with tempfile.TemporaryDirectory() as scratch:
        scenario = Path(scratch) / "scenario.toml"
        scenario.write_text(scenario_text(names), encoding="utf-8")
        with venue_process(scenario) as venue:
            journal = str(Path(scratch) / "journal.sqlite3")
            await seed_account(venue, journal, names)
            async with venue_control(venue) as control:
                held, working = await account_shape(control)
            print(f"venue: {held} positions, {working} open orders, {len(names)} symbols")
            cases = {
                "journal knows the account": journal,
                "empty journal": None,
            }
            rows = []
            for name, path in cases.items():
                startups, gates = [], []
                for run in range(runs):
                    target = path or str(Path(scratch) / f"empty-{run}.sqlite3")
                    startups.append(await time_startup(venue, target))
                    gates.append(await time_gate_reads(venue, target))
                rows.append((name, startups, gates))
    print(
        f"{'case':<28}{'runs':>5}{'start→ready p50':>17}{'min':>8}{'max':>8}{'gate reads p50':>16}"
    )
    for name, startups, gates in rows:
        print(
            f"{name:<28}{len(startups):>5}"
            f"{statistics.median(startups) * 1e3:>14.0f} ms"
            f"{min(startups) * 1e3:>8.0f}{max(startups) * 1e3:>8.0f}"
            f"{statistics.median(gates) * 1e3:>13.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # 1,000 unexplained positions on the empty journal are 1,000 warnings: not the point here.
    configure_logging("ERROR")
    trio.run(main, args.symbols, args.runs)
