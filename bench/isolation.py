"""One slow symbol must not slow the others: signal → ack latency of the other symbols with
and without one symbol's venue answers delayed 2 s, and the REST calls each filled market
order costs.

The paper venue runs as its own process (``tradingd sim``); the daemon runs here. Several
symbols trade at once, 1-share market orders, buys and sells alternating:

- each "other" symbol sends a signal, waits until its order is final, pauses a random
  0..2 x ``--gap`` ms, and sends the next;
- the slow symbol (``AAPL``) sends a signal every ``--slow-gap`` ms whatever happens, so it
  offers the same load in both runs.

Run A leaves every answer alone; run B arms ``delay_acks {"ms": 2000, "symbol": "AAPL"}``: the
venue fills AAPL's orders at once and streams the fill, but answers each POST 2 s later, so
AAPL always has about 2 s / ``--slow-gap`` requests hanging. A and B blocks alternate (A, B, A, B, …) after a
warm-up, so machine noise hits both alike; each block ends when all its orders are final and
answered.

For the other symbols the table gives, per run:

- signal → ack: the signal handed to the daemon's intake (as a source does) until its ack
  comes back (durable in the journal);
- signal → venue ack: until the daemon holds the venue's answer to its POST (its audit
  record), as ``bench/latency.py`` measures it;
- POST: that request's own round trip, as the broker client timed it (the venue's share).

Then the B/A ratio of the p99s (goal ≤ 1.2), and the REST calls the daemon made during each
run divided by the market orders filled in it (goal: 1, the submit): the calls about orders,
and all calls, the periodic account and position reads included.

    python bench/isolation.py [--blocks N] [--seconds S] [--gap MS] [--slow-gap MS]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import attrs
import msgspec
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typing import TYPE_CHECKING  # noqa: E402

from harness import UNPACED, paper_broker, percentile, venue_process  # noqa: E402

from actors.ids import client_order_id_for  # noqa: E402
from actors.messages import Ack  # noqa: E402
from actors.order_state import State  # noqa: E402
from actors.records import (  # noqa: E402
    JournalRecord,
    OrderStateRecorded,
    RiskDenied,
    VenueCallRecorded,
)
from brokers.sim import SimControl  # noqa: E402
from daemon.config import Config  # noqa: E402
from daemon.credentials import load_credentials  # noqa: E402
from daemon.logs import configure_logging  # noqa: E402
from daemon.supervisor import Daemon, open_daemon  # noqa: E402

if TYPE_CHECKING:
    from brokers.base import VenueCall

SLOW = "AAPL"
OTHERS = ("MSFT", "AMD", "NVDA", "TSLA")
DELAY_MS = 2000
ORDER_LIMIT = 30.0  # seconds one order may take before the bench gives up


@attrs.frozen
class Sample:
    symbol: str
    run: str
    to_ack: float
    to_venue_ack: float
    post_round_trip: float


@attrs.define
class Follower:
    """Reads the journal as it is written: when each order's POST was answered, when each
    order became final, and every venue call, by run."""

    run: str = "warm-up"
    answered: dict[str, float] = attrs.field(factory=dict)
    round_trip: dict[str, float] = attrs.field(factory=dict)
    lost: set[str] = attrs.field(factory=set)
    calls: dict[str, list[VenueCall]] = attrs.field(factory=lambda: defaultdict(list))
    filled: Counter[str] = attrs.field(factory=Counter)
    _events: dict[tuple[str, str], trio.Event] = attrs.field(factory=dict)

    def event(self, what: str, cid: str) -> trio.Event:
        return self._events.setdefault((what, cid), trio.Event())

    async def follow(self, records: trio.MemoryReceiveChannel[JournalRecord]) -> None:
        async for record in records:
            match record:
                case VenueCallRecorded(call=call):
                    self.calls[self.run].append(call)
                    body = call.request_body
                    if call.method == "POST" and call.path == "/v2/orders" and body is not None:
                        cid = msgspec.json.decode(body)["client_order_id"]
                        if call.status is None:
                            # No answer (a dropped connection): the daemon looks the order
                            # up and resends it if the venue never had it. Not a sample.
                            self.lost.add(cid)
                        elif cid not in self.answered:
                            self.answered[cid] = time.perf_counter()
                            self.round_trip[cid] = call.latency_s
                        self.event("answered", cid).set()
                case OrderStateRecorded(client_order_id=cid, state=state):
                    if state == State.FILLED:
                        self.filled[self.run] += 1
                    if State(state).is_final:
                        self.event("final", cid).set()
                case RiskDenied(code=code):
                    raise RuntimeError(f"the daemon denied a benchmark order: {code}")
                case _:
                    pass


@attrs.define
class Bench:
    daemon: Daemon
    venue: SimControl
    follower: Follower
    gap: float
    slow_gap: float
    samples: list[Sample] = attrs.field(factory=list)
    rng: random.Random = attrs.field(factory=lambda: random.Random(7))
    _count: Counter[str] = attrs.field(factory=Counter)

    async def one_order(self, symbol: str) -> None:
        n = self._count[symbol]
        self._count[symbol] += 1
        sid = f"{self.follower.run}-{symbol}-{n}"
        side = "buy" if n % 2 == 0 else "sell"
        line = msgspec.json.encode({"id": sid, "symbol": symbol, "action": side, "qty": 1})
        cid = client_order_id_for(sid, "entry")
        reply, answer = trio.open_memory_channel[Ack](1)
        with trio.fail_after(ORDER_LIMIT):
            start = time.perf_counter()
            await self.daemon.intake.send(line, "bench", reply)
            ack = await answer.receive()
            acked = time.perf_counter()
            if ack.status != "accepted":
                raise RuntimeError(f"the daemon did not accept a benchmark signal: {ack}")
            await self.follower.event("answered", cid).wait()
            await self.follower.event("final", cid).wait()
        if cid in self.follower.lost:
            return
        venue_ack = self.follower.answered[cid] - start
        round_trip = self.follower.round_trip[cid]
        self.samples.append(Sample(symbol, self.follower.run, acked - start, venue_ack, round_trip))

    async def steady(self, symbol: str, until: float) -> None:
        """One order at a time, each after the previous one is final and a random pause."""
        while trio.current_time() < until:
            await self.one_order(symbol)
            await trio.sleep(self.rng.uniform(0, 2 * self.gap))

    async def paced(self, symbol: str, until: float) -> None:
        """An order every ``slow_gap`` seconds, whether or not the last one was answered."""
        async with trio.open_nursery() as orders:
            while trio.current_time() < until:
                orders.start_soon(self.one_order, symbol)
                await trio.sleep(self.slow_gap)

    async def block(self, run: str, seconds: float) -> None:
        if run == "B":
            await self.venue.fault("delay_acks", ms=DELAY_MS, symbol=SLOW)
        else:
            await self.venue.fault("clear")
        self.follower.run = run
        until = trio.current_time() + seconds
        async with trio.open_nursery() as drivers:
            for symbol in OTHERS:
                drivers.start_soon(self.steady, symbol, until)
            drivers.start_soon(self.paced, SLOW, until)
        # Every order of the block is final and answered: nothing spills into the next one.
        await self.daemon.activity.wait_idle()


async def main(blocks: int, seconds: float, gap: float, slow_gap: float) -> None:
    with venue_process() as ready, tempfile.TemporaryDirectory() as scratch:
        config = Config(
            broker=paper_broker(ready),
            risk=UNPACED,
        )
        credentials = load_credentials("paper", {}, None)
        journal = str(Path(scratch) / "journal.sqlite3")
        async with (
            SimControl(ready) as venue,
            open_daemon(config, credentials, journal_path=journal) as daemon,
        ):
            with trio.fail_after(10):
                for symbol in (SLOW, *OTHERS):
                    await daemon.prices.wait_for(symbol)
            follower = Follower()
            with daemon.journal.watch() as records:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(follower.follow, records)
                    bench = Bench(daemon, venue, follower, gap, slow_gap)
                    await bench.block("warm-up", min(seconds, 2.0))
                    for _ in range(blocks):
                        await bench.block("A", seconds)
                        await bench.block("B", seconds)
                    nursery.cancel_scope.cancel()
            await venue.fault("clear")
            # However often a request was retried, the venue must have taken each order once.
            submissions = (await venue.state())["submissions"]
            twice = sum(1 for count in submissions.values() if count > 1)
            daemon.stop()
    report(bench, follower, blocks, seconds)
    print(f"orders the venue received more than once: {twice} of {len(submissions)}")
    print(f"orders whose first POST got no answer (not sampled): {len(follower.lost)}")


def report(bench: Bench, follower: Follower, blocks: int, seconds: float) -> None:
    pause = 2 * bench.gap * 1e3
    print(
        f"{len(OTHERS)} symbols ({' '.join(OTHERS)}) one order at a time, pause 0..{pause:.0f} ms;"
        f" {SLOW} an order every {bench.slow_gap * 1e3:.0f} ms"
    )
    print(
        f"run B: delay_acks {{ms: {DELAY_MS}, symbol: {SLOW}}}; {blocks} A and {blocks} B blocks"
        f" of {seconds:.0f} s, alternating"
    )
    print()
    header = f"{'run':<22}{'symbols':<9}{'n':>6}{'ack p50':>10}{'ack p99':>10}"
    print(f"{header}{'venue p50':>11}{'venue p99':>11}{'POST p50':>10}{'POST p99':>10}")
    p99: dict[tuple[str, str], float] = {}
    for run, label in (("A", "A undisturbed"), ("B", f"B {SLOW} delayed 2 s")):
        for who in ("others", SLOW):
            chosen = [
                s for s in bench.samples if s.run == run and ((s.symbol == SLOW) == (who == SLOW))
            ]
            acks = [s.to_ack * 1e3 for s in chosen]
            venue = [s.to_venue_ack * 1e3 for s in chosen]
            post = [s.post_round_trip * 1e3 for s in chosen]
            p99[run, f"{who}-ack"] = percentile(acks, 99)
            p99[run, f"{who}-venue"] = percentile(venue, 99)
            print(
                f"{label:<22}{who:<9}{len(chosen):>6}"
                f"{percentile(acks, 50):>10.2f}{percentile(acks, 99):>10.2f}"
                f"{percentile(venue, 50):>11.2f}{percentile(venue, 99):>11.2f}"
                f"{percentile(post, 50):>10.2f}{percentile(post, 99):>10.2f}"
            )
    print()
    ack_ratio = p99["B", "others-ack"] / p99["A", "others-ack"]
    venue_ratio = p99["B", "others-venue"] / p99["A", "others-venue"]
    print(
        f"others' p99 ratio B/A: signal → ack {ack_ratio:.2f},"
        f" signal → venue ack {venue_ratio:.2f}  (goal ≤ 1.2)"
    )
    print()
    print("REST calls per filled market order: those about orders (submits, lookups, cancels),")
    print("and all the daemon made (with the account refreshes and the Reconciler's reads)")
    header = f"{'run':<22}{'filled':>8}{'orders':>8}{'per order':>11}{'all':>8}{'per order':>11}"
    print(f"{header}   by kind")
    for run in ("A", "B"):
        calls = follower.calls[run]
        filled = follower.filled[run]
        about_orders = sum(1 for c in calls if c.path.startswith("/v2/orders"))
        kinds = Counter(kind_of(c) for c in calls)
        detail = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
        print(
            f"{run:<22}{filled:>8}{about_orders:>8}{about_orders / filled:>11.3f}"
            f"{len(calls):>8}{len(calls) / filled:>11.3f}   {detail}"
        )


def kind_of(call: VenueCall) -> str:
    path = call.path.split("?")[0]
    if call.method == "POST" and path == "/v2/orders":
        kind = "submit"
    elif "by_client_order_id" in path:
        kind = "lookup"
    else:
        kind = f"{call.method} {path}"
    if call.status is None:
        return f"{kind} (no answer)"
    return kind if call.status < 400 else f"{kind} ({call.status})"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=5, help="A/B block pairs")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per block")
    parser.add_argument("--gap", type=float, default=50.0, help="others' mean pause, ms")
    parser.add_argument("--slow-gap", type=float, default=100.0, help="slow symbol's pace, ms")
    args = parser.parse_args()
    configure_logging("ERROR")
    trio.run(main, args.blocks, args.seconds, args.gap / 1e3, args.slow_gap / 1e3)
