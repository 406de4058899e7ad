"""Scenario files with futures: contract prices and moves, their tick grid, the walk."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest

from brokers.sim.scenario import ScenarioError, parse_scenario, walk_ticks

D = Decimal
FUTURES = """
start_time = 2026-11-05T15:00:00Z

[prices]
AAPL = "187.20"
MNQZ6 = "21000.25"

[random_walk]
contracts = ["MNQ1!", "MESZ6"]

[[moves]]
at = 5
prices = { "MNQ1!" = "21001.50", AAPL = "185.00" }
"""


def test_contract_prices_go_to_the_futures_config() -> None:
    """Starting prices split: equities to ``prices``, contracts to ``futures_prices``."""
    config = parse_scenario(FUTURES).sim_config()
    assert config.prices == {"AAPL": D("187.20")}
    assert config.futures_prices == {"MNQZ6": D("21000.25")}


@pytest.mark.parametrize(
    ("replace", "by", "error"),
    [
        ('MNQZ6 = "21000.25"', 'MNQZ6 = "21000.30"', "prices: price 21000.30 of MNQZ6 is not on"),
        ('"MNQ1!" = "21001.50"', '"MNQ1!" = "21001.10"', "move at 5.0: price 21001.10 of MNQ1!"),
        ('"MNQ1!", "MESZ6"', '"MNQ1!", "NOPE"', "random_walk: NOPE is not a futures contract"),
    ],
)
def test_off_grid_or_unknown_futures_are_refused(replace: str, by: str, error: str) -> None:
    """A contract price between ticks, or a walk of something not a contract: ScenarioError."""
    with pytest.raises(ScenarioError, match=re.escape(error)):
        parse_scenario(FUTURES.replace(replace, by))


def test_the_futures_walk_stays_on_the_tick_grid() -> None:
    """Two hundred steps of MNQ and ES: every price on its 0.25 grid and above zero."""
    rng = random.Random(3)
    prices = {"MNQZ6": D("21000.25"), "ESZ6": D("6000.00")}
    moved_any = False
    for _ in range(200):
        walked = walk_ticks(prices, rng, 20)
        moved_any = moved_any or walked != prices
        assert all(p % D("0.25") == 0 and p > 0 for p in walked.values())
        prices = walked
    assert moved_any
