"""RiskGuard in the real daemon against the paper venue: the buying-power burst (003 TECL)
and the kill switch."""

from __future__ import annotations

from contextlib import asynccontextmanager
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

import trio

from actors.messages import Ack
from actors.records import OrderStateRecorded, RiskDenied, VenueCallRecorded
from actors.risk.limits import RiskLimits
from brokers.sim import SimConfig, SimControl, running_sim
from brokers.sim.core.assets import REFERENCE_PRICES
from daemon.config import BrokerConfig, Config
from daemon.credentials import load_credentials
from daemon.supervisor import open_daemon
from tests.scenarios.daemon_on_sim import FAST, SETTLE_LIMIT, Scenario, reached, signal

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CASH = Decimal(20_000)
SYMBOLS = sorted(REFERENCE_PRICES)


@asynccontextmanager
async def daemon_with_cash(tmp_path: Path, risk: RiskLimits) -> AsyncIterator[Scenario]:
    """The daemon on a paper venue holding only ``CASH``, every symbol priced."""
    async with running_sim(SimConfig(cash=CASH)) as endpoints, SimControl(endpoints) as venue:
        broker = BrokerConfig(
            kind="paper",
            base_url=endpoints.alpaca_url,
            stream_url=endpoints.stream_url,
            data_url=endpoints.data_url,
        )
        config = Config(broker=broker, monitor=FAST, risk=risk)
        journal = str(tmp_path / "journal.sqlite3")
        credentials = load_credentials("paper", {}, None)
        async with open_daemon(config, credentials, journal_path=journal) as daemon:
            with trio.fail_after(SETTLE_LIMIT):
                for symbol in SYMBOLS:
                    await daemon.prices.wait_for(symbol)
            with daemon.journal.watch() as records:
                yield Scenario(daemon, venue, records)
            daemon.stop()


async def send_all_at_once(scenario: Scenario, lines: list[bytes]) -> list[Ack]:
    """Hand every line over before any ack comes back: the orders race each other."""
    send, receive = trio.open_memory_channel[Ack](len(lines))
    with trio.fail_after(SETTLE_LIMIT):
        for line in lines:
            await scenario.daemon.intake.send(line, "test", send)
        return [await receive.receive() for _ in lines]


async def test_003_tecl_burst_of_twice_the_buying_power_gets_no_venue_rejection(
    tmp_path: Path,
) -> None:
    """Concurrent buys worth twice the buying power: RiskGuard denies the excess with a
    reason, and the venue never answers "insufficient buying power" (003, the TECL line)."""
    # Exposure caps off: buying power alone is what the burst runs into.
    risk = RiskLimits(max_gross_exposure=None, max_net_exposure=None)
    async with daemon_with_cash(tmp_path, risk) as scenario:
        each = 2 * CASH / len(SYMBOLS)
        lines = []
        for symbol in SYMBOLS:
            price = scenario.daemon.prices.last(symbol, trio.current_time(), 60)
            assert price is not None
            qty = (each / price).quantize(Decimal(1), rounding=ROUND_DOWN)
            lines.append(signal(f"burst-{symbol}", symbol, "buy", int(qty)))
        acks = await send_all_at_once(scenario, lines)
        await scenario.settle()
        accepted = [a for a in acks if a.status == "accepted"]
        denied = [a for a in acks if a.status == "rejected"]
        assert accepted
        assert denied
        assert all((a.reason or "").startswith("risk: insufficient_buying_power") for a in denied)
        denials = [r for r in scenario.seen if isinstance(r, RiskDenied)]
        assert {r.code for r in denials} == {"insufficient_buying_power"}
        assert len(denials) == len(denied)
        refused = [
            r for r in scenario.seen if isinstance(r, VenueCallRecorded) and r.call.status == 403
        ]
        assert refused == []
        venue_rejections = [
            r for r in scenario.seen if isinstance(r, OrderStateRecorded) and r.state == "rejected"
        ]
        assert venue_rejections == []
        state = await scenario.venue.state()
        assert Decimal(state["account"]["cash"]) >= 0
        # The order validated is the order sent: same qty at the venue as approved (000).
        sent = {o["client_order_id"]: Decimal(o["qty"]) for o in state["orders"]}
        assert len(sent) == len(accepted)
        assert all(scenario.order(cid).request.qty == qty for cid, qty in sent.items())


async def test_halt_cancels_flattens_and_blocks_until_resume(tmp_path: Path) -> None:
    """halt(flatten) cancels the resting order, closes the position, denies new entries with
    `halted`; resume lets them trade again."""
    async with daemon_with_cash(tmp_path, RiskLimits()) as scenario:
        aapl = scenario.daemon.prices.last("AAPL", trio.current_time(), 60)
        assert aapl is not None
        bid = (aapl * Decimal("0.8")).quantize(Decimal("0.01"))
        await scenario.send(
            signal("h1", "MSFT", "buy", 3),
            signal("h2", "AAPL", "buy", 2, order_type="limit", limit_price=str(bid)),
        )
        await scenario.until(reached("accepted", 1))
        with trio.fail_after(SETTLE_LIMIT):
            await scenario.daemon.halt(flatten=True)
        [entry] = await scenario.send(signal("h3", "AMD", "buy", 1))
        assert entry.status == "rejected"
        assert (entry.reason or "").startswith("risk: halted")
        await scenario.settle()
        state = await scenario.venue.state()
        assert {o["status"] for o in state["orders"] if o["symbol"] == "AAPL"} == {"canceled"}
        assert all(Decimal(p["qty"]) == 0 for p in state["positions"])
        assert scenario.daemon.positions() == {}
        await scenario.daemon.resume()
        [again] = await scenario.send(signal("h4", "AMD", "buy", 1))
        assert again.status == "accepted"
