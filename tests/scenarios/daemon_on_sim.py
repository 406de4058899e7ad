"""The real daemon against a paper venue on loopback, with short monitor timers, and the
checks every fault scenario ends with: nothing left non-final, nothing sent twice, and
positions equal to the venue's."""

from __future__ import annotations

import itertools
import socket
from collections import defaultdict
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import msgspec
import trio

from actors.order_state import TRANSITIONS, State
from actors.records import FillRecorded, JournalRecord, OrderStateRecorded
from actors.risk.limits import RiskLimits
from brokers.sim import SimAsset, SimConfig, SimControl, SimEndpoints, running_sim
from daemon.config import BrokerConfig, Config, ExecutorConfig, MonitorConfig
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence
    from pathlib import Path

    from actors.messages import Ack

SYMBOLS = ("AAPL", "MSFT", "AMD")
PRICES = {"AAPL": Decimal(100), "MSFT": Decimal(200), "AMD": Decimal(50)}
# Short enough that a scenario relying on a lookup ends in moments, long enough that the
# stream, when healthy, answers first.
FAST = MonitorConfig(first_answer=0.5, recheck=2.0, unhealthy_poll=0.2, lookups_per_second=50.0)
# The longest a scenario may take to settle; a stuck order fails the test here.
SETTLE_LIMIT = 15.0


def signal(sid: str, symbol: str, action: str, qty: int | None = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {"id": sid, "symbol": symbol, "action": action, **extra}
    if qty is not None:
        body["qty"] = qty
    return msgspec.json.encode(body)


def reached(
    state: str, count: int = 1, filled_qty: int | None = None
) -> Callable[[list[JournalRecord]], bool]:
    """A condition for ``Scenario.until``: ``count`` orders journaled in ``state`` (with
    ``filled_qty`` filled, when given)."""

    def done(seen: list[JournalRecord]) -> bool:
        orders = {
            r.client_order_id
            for r in seen
            if isinstance(r, OrderStateRecorded)
            and r.state == state
            and (filled_qty is None or r.filled_qty == filled_qty)
        }
        return len(orders) >= count

    return done


@attrs.define
class Scenario:
    daemon: Daemon
    venue: SimControl
    records: trio.MemoryReceiveChannel[JournalRecord]
    seen: list[JournalRecord] = attrs.field(factory=list)
    # The longest wait for anything (virtual seconds, under autojump_clock).
    patience: float = SETTLE_LIMIT

    async def send(self, *lines: bytes) -> list[Ack]:
        with trio.fail_after(self.patience):
            return [await self.daemon.intake.submit(line, "test") for line in lines]

    async def until(self, done: Callable[[list[JournalRecord]], bool]) -> None:
        """Read journal records until ``done`` holds for the ones seen so far."""
        with trio.fail_after(self.patience):
            while not done(self.seen):
                self.seen.append(await self.records.receive())

    async def settle(self) -> None:
        """Wait until every executor is idle: every order final, nothing queued."""
        with trio.fail_after(self.patience):
            await self.daemon.activity.wait_idle()
        await self.daemon.journal.flush()
        while True:
            try:
                self.seen.append(self.records.receive_nowait())
            except trio.WouldBlock:
                break

    async def assert_definitive(self, *, orders: int) -> dict[str, Any]:
        """Every order final and equal to the venue's; sent once; positions match."""
        await self.settle()
        state = await self.venue.state()
        assert self.daemon.unresolved() == 0
        assert len(state["submissions"]) == orders
        assert set(state["submissions"].values()) == {1}, state["submissions"]
        venue_positions = {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}
        assert self.daemon.positions() == {s: q for s, q in venue_positions.items() if q}
        for venue_order in state["orders"]:
            ours = self.order(venue_order["client_order_id"])
            assert ours.state.value == venue_order["status"], (ours, venue_order)
            assert ours.filled_qty == Decimal(venue_order["filled_qty"])
        self._assert_journal_agrees()
        return state

    def order(self, client_order_id: str) -> Any:
        for executor in self.daemon.executors.values():
            order = executor.order(client_order_id)
            if order is not None:
                return order
        raise AssertionError(f"no executor knows {client_order_id}")

    def journaled_states(self) -> dict[str, list[str]]:
        states: dict[str, list[str]] = defaultdict(list)
        for record in self.seen:
            if isinstance(record, OrderStateRecorded):
                states[record.client_order_id].append(record.state)
        return states

    def fills(self) -> dict[str, Decimal]:
        filled: dict[str, Decimal] = defaultdict(Decimal)
        for record in self.seen:
            if isinstance(record, FillRecorded):
                filled[record.client_order_id] += record.qty
        return filled

    def _assert_journal_agrees(self) -> None:
        """The journal's last word on each order is the final state held in memory, every
        journaled move is a legal one, and the journaled fills add up to the filled qty."""
        fills = self.fills()
        for cid, states in self.journaled_states().items():
            order = self.order(cid)
            assert states[-1] == order.state.value, (cid, states)
            assert order.state.is_final
            path = [State.INTENT, *(State(s) for s in states)]
            for before, after in itertools.pairwise(path):
                assert after is before or after in TRANSITIONS[before], (cid, states)
            assert fills.get(cid, Decimal(0)) == order.filled_qty, cid


@asynccontextmanager
async def daemon_on_sim(
    tmp_path: Path,
    *,
    monitor: MonitorConfig = FAST,
    stream_down: bool = False,
    fill_size: Decimal | None = None,
    executor: ExecutorConfig | None = None,
    risk: RiskLimits | None = None,
    assets: Sequence[SimAsset] = (),
    rate_limit_per_minute: int | None = None,
) -> AsyncIterator[Scenario]:
    """A paper venue and the daemon on it; ``stream_down`` points the daemon's order stream
    at a port nobody listens on, so everything it learns comes by REST; ``fill_size`` makes
    the venue fill at most that many shares per match; ``executor`` sets its policies;
    ``risk`` replaces the default limits; ``assets`` gives instruments their own flags;
    ``rate_limit_per_minute`` makes the venue answer 429 past it, per key, like Alpaca."""
    sim_config = SimConfig(
        prices=dict(PRICES),
        fill_size=fill_size,
        assets=assets,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    async with (
        running_sim(sim_config) as endpoints,
        SimControl(endpoints) as venue,
    ):
        if stream_down:
            # Startup would wait for a stream that never comes.
            monitor = msgspec.structs.replace(monitor, first_connect_grace=0.0)
        config = Config(
            broker=_broker(endpoints, stream_down),
            monitor=monitor,
            executor=executor or ExecutorConfig(),
            risk=RiskLimits() if risk is None else risk,
        )
        credentials = load_credentials("paper", {}, None)
        journal = str(tmp_path / "journal.sqlite3")
        async with open_daemon(config, credentials, journal_path=journal) as daemon:
            with trio.fail_after(SETTLE_LIMIT):
                for symbol in SYMBOLS:
                    await daemon.prices.wait_for(symbol)
            with daemon.journal.watch() as records:
                yield Scenario(daemon, venue, records)
            daemon.stop()


def _broker(endpoints: SimEndpoints, stream_down: bool) -> BrokerConfig:
    stream_url = endpoints.stream_url
    if stream_down:
        stream_url = f"ws://127.0.0.1:{_closed_port()}/stream"
    return BrokerConfig(
        kind="paper",
        base_url=endpoints.alpaca_url,
        stream_url=stream_url,
        data_url=endpoints.data_url,
    )


def _closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
