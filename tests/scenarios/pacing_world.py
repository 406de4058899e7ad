"""The real daemon on the paper venue for the pacing scenarios: many symbols, one journal
that a restart keeps, and the signals sent as a source would (each awaiting its ack)."""

from __future__ import annotations

from collections import defaultdict
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import msgspec
import trio

from actors.records import FillRecorded, IntentRecorded
from brokers.sim import SimConfig, SimControl, running_sim
from daemon.config import BrokerConfig, Config, SourcesConfig
from daemon.credentials import load_credentials
from daemon.supervisor import open_daemon
from tests.scenarios.daemon_on_sim import FAST, Scenario

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from actors.messages import Ack
    from actors.risk.limits import RiskLimits
    from brokers.sim import SimEndpoints

# Twenty symbols at prices that keep a 100-order basket inside the default notional limits.
BASKET_SYMBOLS = tuple(f"B{i:02d}" for i in range(20))
# A scenario's longest wait for anything (virtual seconds, under autojump_clock).
PATIENCE = 120.0


@attrs.define
class PacedRun(Scenario):
    """A scenario whose paced bursts may take a minute or two of the venue's time."""

    patience: float = PATIENCE

    def filled_signals_by_symbol(self) -> dict[str, list[str]]:
        """Per symbol, the signals whose orders filled, in the order their fills came."""
        signal_of = {
            r.request.client_order_id: r.signal_id
            for r in self.seen
            if isinstance(r, IntentRecorded)
        }
        order: dict[str, list[str]] = defaultdict(list)
        for r in self.seen:
            if isinstance(r, FillRecorded):
                sid = signal_of[r.client_order_id]
                if sid not in order[r.symbol]:
                    order[r.symbol].append(sid)
        return dict(order)

    async def submissions(self) -> int:
        state = await self.venue.state()
        return sum(state["submissions"].values())

    async def venue_positions(self) -> dict[str, Decimal]:
        state = await self.venue.state()
        return {p["symbol"]: Decimal(p["qty"]) for p in state["positions"] if Decimal(p["qty"])}


def line(sid: str, symbol: str, action: str, **fields: object) -> bytes:
    return msgspec.json.encode({"id": sid, "symbol": symbol, "action": action, **fields})


async def send_all(run: PacedRun, lines: Sequence[bytes]) -> list[Ack]:
    """One after another, each awaiting its ack, as one source sends."""
    with trio.fail_after(PATIENCE):
        return [await run.daemon.intake.submit(one, "test") for one in lines]


async def send_at_rate(run: PacedRun, lines: Sequence[bytes], per_second: int) -> list[Ack]:
    """Offered at ``per_second`` whatever the answers take (a source that does not wait), a
    tenth of a second's worth at a time, each batch in its order."""
    acks: list[Ack] = []
    batch = max(1, per_second // 10)

    async def in_order(bodies: Sequence[bytes]) -> None:
        for body in bodies:
            acks.append(await run.daemon.intake.submit(body, "test"))

    with trio.fail_after(PATIENCE):
        async with trio.open_nursery() as nursery:
            for start in range(0, len(lines), batch):
                nursery.start_soon(in_order, lines[start : start + batch])
                await trio.sleep(batch / per_second)
    return acks


@asynccontextmanager
async def paper_venue(symbols: Sequence[str]) -> AsyncIterator[tuple[SimEndpoints, SimControl]]:
    prices = {symbol: Decimal(20) for symbol in symbols}
    async with (
        running_sim(SimConfig(prices=prices)) as endpoints,
        SimControl(endpoints) as control,
    ):
        yield endpoints, control


@asynccontextmanager
async def paced_daemon(
    tmp_path: Path,
    endpoints: SimEndpoints,
    control: SimControl,
    risk: RiskLimits,
    symbols: Sequence[str],
) -> AsyncIterator[PacedRun]:
    """One run of the daemon on the venue and the journal under ``tmp_path``."""
    broker = BrokerConfig(
        kind="paper",
        base_url=endpoints.alpaca_url,
        stream_url=endpoints.stream_url,
        data_url=endpoints.data_url,
    )
    config = Config(
        broker=broker,
        monitor=FAST,
        risk=risk,
        sources=SourcesConfig(stdin=False, socket=False),
    )
    credentials = load_credentials("paper", {}, None)
    journal = str(tmp_path / "journal.sqlite3")
    async with open_daemon(config, credentials, journal_path=journal) as daemon:
        with trio.fail_after(PATIENCE):
            for symbol in symbols:
                await daemon.prices.wait_for(symbol)
        with daemon.journal.watch() as records:
            yield PacedRun(daemon, control, records)
        with trio.fail_after(PATIENCE):
            await daemon.activity.wait_idle()
        daemon.stop()
