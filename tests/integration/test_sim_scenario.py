"""Scenarios played against the paper venue: moves and faults at their offsets, the same
fills for the same scenario, and ``tradingd sim --scenario FILE``."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import trio

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.orders import OrderTicket
from brokers.sim.scenario import parse_scenario, play_scenario
from brokers.sim.venue import SimVenue
from daemon.exit_status import ExitStatus
from tests.integration.daemons import ROOT, TRADINGD, read_line

if TYPE_CHECKING:
    from pathlib import Path

SCRIPTED = """
seed = 3
[prices]
AAPL = "100.00"
[[moves]]
at = 10
prices = { AAPL = "95.00" }
[[faults]]
at = 20
fault = "http_status"
status = 503
"""
WALK = """
seed = 11
[prices]
AAPL = "100.00"
MSFT = "400.00"
[random_walk]
interval = 1
max_step_bps = 100
"""


def resting_buy(limit: str) -> OrderTicket:
    return OrderTicket(
        symbol="AAPL",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=Decimal(5),
        limit_price=Decimal(limit),
    )


async def test_scripted_moves_and_faults_apply_at_their_offsets(autojump_clock: Any) -> None:
    """A move at 10 s fills a resting order then; a fault at 20 s is armed only then."""
    scenario = parse_scenario(SCRIPTED)
    venue = SimVenue.from_config(scenario.sim_config())
    order = venue.core.submit(resting_buy("96"), venue.clock())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(play_scenario, venue, scenario)
        await trio.sleep(9)
        assert venue.core.order(order.id).status == "new"
        await trio.sleep(2)
        assert venue.core.order(order.id).filled_avg_price == Decimal(95)
        assert venue.faults.take_http_status(venue.clock()) is None
        await trio.sleep(10)
        armed = venue.faults.take_http_status(venue.clock())
        assert armed is not None
        assert armed.status == 503


async def fills_of_a_walk(text: str = WALK) -> list[tuple[str, str, str]]:
    scenario = parse_scenario(text)
    venue = SimVenue.from_config(scenario.sim_config())
    for limit in ("99.00", "98.50", "98.00", "97.50"):
        venue.core.submit(resting_buy(limit), venue.clock())
        day = msgspec.structs.replace(resting_buy(limit), time_in_force=TimeInForce.DAY)
        venue.core.submit(day, venue.clock())
    with trio.move_on_after(60):
        await play_scenario(venue, scenario)
    return [(o.status, str(o.filled_qty), str(o.filled_avg_price)) for o in venue.core.orders()] + [
        ("price", s, str(p)) for s, p in venue.core.prices().items()
    ]


async def test_same_scenario_and_seed_give_the_same_fills(autojump_clock: Any) -> None:
    """Two venues playing the same random-walk scenario fill the same orders the same way."""
    first = await fills_of_a_walk()
    second = await fills_of_a_walk()
    assert first == second
    assert any(status == "filled" for status, _, _ in first)


async def test_same_scenario_crossing_the_close_expires_the_same_orders(
    autojump_clock: Any,
) -> None:
    """Started 3 s before the close, two plays of one walk fill and expire the same day
    orders, and their gtc twins work on."""
    text = "start_time = 2026-01-05T20:59:57Z\n" + WALK
    first = await fills_of_a_walk(text)
    assert first == await fills_of_a_walk(text)
    statuses = [status for status, _, _ in first[:8]]
    assert "expired" in statuses[1::2]
    assert "expired" not in statuses[0::2]


async def test_tradingd_sim_plays_a_scenario_file(tmp_path: Path) -> None:
    """`tradingd sim --scenario FILE` serves the file's prices and refuses a bad file."""
    good = tmp_path / "scenario.toml"
    good.write_text('seed = 5\n[prices]\nXYZ = "12.34"\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[faults]]\nat = 1\nfault = 'meteor'\n", encoding="utf-8")
    with trio.fail_after(30):
        refused = await trio.run_process(
            [*TRADINGD, "sim", "--scenario", str(bad)], cwd=ROOT, capture_stderr=True, check=False
        )
    assert refused.returncode == ExitStatus.BAD_CONFIG
    assert b"unknown fault" in refused.stderr
    proc = await trio.lowlevel.open_process(
        [*TRADINGD, "sim", "--port", "0", "--scenario", str(good)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        with trio.fail_after(30):
            ready = msgspec.json.decode(await read_line(proc.stdout))
            async with httpx.AsyncClient(base_url=ready["alpaca_url"]) as client:
                state = (await client.get("/_sim/state")).json()
        assert state["prices"] == {"XYZ": "12.34"}
    finally:
        proc.terminate()
        with trio.fail_after(10):
            await proc.wait()
