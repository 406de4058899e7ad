"""A scenario scripting and walking futures prices on the venue, under the autojump clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import trio

from brokers.sim.scenario import parse_scenario, play_scenario
from brokers.sim.venue import SimVenue

SCENARIO = """
start_time = 2026-11-05T15:00:00Z

[prices]
AAPL = "187.20"
MNQZ6 = "21000.25"

[[moves]]
at = 5
prices = { "MNQ1!" = "21001.50", AAPL = "185.00" }
"""


async def test_a_scripted_move_of_mnq1_moves_the_front_contract(autojump_clock: Any) -> None:
    """MNQZ6 starts where the file says; at 5 s MNQ1! moves it, and AAPL on its own core."""
    scenario = parse_scenario(SCENARIO)
    venue = SimVenue.from_config(scenario.sim_config())
    assert venue.tradovate.core.price("MNQZ6") == Decimal("21000.25")
    await play_scenario(venue, scenario)
    assert venue.tradovate.core.price("MNQZ6") == Decimal("21001.50")
    assert venue.core.price("AAPL") == Decimal("185.00")
    assert "MNQZ6" not in venue.core.prices()


async def test_a_walk_of_a_contract_moves_it_in_ticks(autojump_clock: Any) -> None:
    """A random walk naming MNQ1! moves MNQZ6 on its 0.25 grid; same seed, same path."""
    # No scripted move: one at a step's moment would race it.
    text = SCENARIO.split("[[moves]]")[0] + (
        '[random_walk]\ninterval = 1\nmax_step_bps = 50\ncontracts = ["MNQ1!"]\n'
    )

    async def path() -> list[Decimal]:
        scenario = parse_scenario(text)
        venue = SimVenue.from_config(scenario.sim_config())
        seen: list[Decimal] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(play_scenario, venue, scenario)
            await trio.sleep(0.5)  # read between steps, never at one
            for _ in range(20):
                await trio.sleep(1)
                seen.append(venue.tradovate.core.price("MNQZ6"))
            nursery.cancel_scope.cancel()
        return seen

    first = await path()
    assert len(set(first)) > 1
    assert all(p % Decimal("0.25") == 0 for p in first)
    assert first == await path()
