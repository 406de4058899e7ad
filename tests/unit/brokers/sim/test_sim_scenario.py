"""Scenario files of the paper venue: reading them, their timeline, the seeded random walk."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from brokers.sim.scenario import ScenarioError, parse_scenario, walk_step

D = Decimal
SCENARIO = """
seed = 42
cash = "50000"
fill_size = "3"

[prices]
AAPL = "187.20"
PENNY = "0.5000"

[random_walk]
interval = 2.0
max_step_bps = 50

[[moves]]
at = 5
prices = { AAPL = "185.00" }

[[faults]]
at = 5
fault = "stall_stream"
seconds = 3

[[faults]]
at = 1.5
fault = "reject_next"
code = 40310000
"""


def test_scenario_reads_prices_walk_and_a_timeline_by_offset() -> None:
    """A scenario gives the venue config and its steps ordered by offset, moves first."""
    scenario = parse_scenario(SCENARIO)
    config = scenario.sim_config(port=8080)
    assert (config.seed, config.cash, config.fill_size, config.port) == (42, D(50000), D(3), 8080)
    assert config.prices == {"AAPL": D("187.20"), "PENNY": D("0.5000")}
    assert scenario.random_walk is not None
    assert scenario.random_walk.interval == 2.0
    assert scenario.steps() == [
        (1.5, "fault", {"fault": "reject_next", "code": 40310000}),
        (5.0, "prices", {"AAPL": D("185.00")}),
        (5.0, "fault", {"fault": "stall_stream", "seconds": 3}),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = ", "invalid scenario"),
        ("colour = 'red'", "invalid scenario"),
        ("[[faults]]\nfault = 'drop_stream'", "needs an offset"),
        ("[[faults]]\nat = 1\nfault = 'meteor'", "unknown fault"),
        ("[[moves]]\nat = -1\nprices = { AAPL = '1' }", "negative offset"),
        ("[random_walk]\ninterval = 0", "interval must be > 0"),
        ("fill_size = '0'", "fill_size must be > 0"),
        ("[[moves]]\nat = 1\nprices = { NOPE = '1' }", "NOPE is not a listed symbol"),
        ("[prices]\nX = '2'\n[[moves]]\nat = 1\nprices = { x = '0' }", "invalid price 0"),
    ],
)
def test_unreadable_scenarios_are_refused(text: str, message: str) -> None:
    """A malformed, unknown-field or impossible scenario is refused, saying why."""
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text)


def test_random_walk_is_fixed_by_the_seed_and_keeps_valid_ticks() -> None:
    """The same seed walks the same path; prices stay on cent (or sub-dollar) ticks."""
    start = {"AAPL": D("187.20"), "PENNY": D("0.5000")}

    def path(seed: int) -> list[dict[str, Decimal]]:
        rng, prices, out = random.Random(seed), start, []
        for _ in range(50):
            prices = walk_step(prices, rng, 50)
            out.append(prices)
        return out

    assert path(1) == path(1)
    assert path(1) != path(2)
    for step in path(1):
        assert step["AAPL"] == step["AAPL"].quantize(D("0.01"))
        assert step["PENNY"] == step["PENNY"].quantize(D("0.0001"))
        assert abs(step["AAPL"] / D("187.20") - 1) < D("0.3")


def test_the_documented_example_scenario_is_valid() -> None:
    """The TOML example in the venue's README parses, with its moves and faults."""
    readme = Path(__file__).resolve().parents[4] / "brokers" / "sim" / "README.md"
    example = readme.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    scenario = parse_scenario(example)
    kinds = [kind for _, kind, _ in scenario.steps()]
    assert kinds == ["fault", "prices", "fault", "prices", "fault"]
    assert scenario.sim_config().rate_limit_per_minute == 200
    assert scenario.sim_config().start_time == datetime(2026, 1, 5, 20, 55, tzinfo=UTC)


def test_start_time_is_read_and_must_say_its_offset() -> None:
    """start_time is a TOML date-time with its offset; a local one is refused."""
    scenario = parse_scenario("start_time = 2026-01-05T20:55:00Z")
    assert scenario.sim_config().start_time == datetime(2026, 1, 5, 20, 55, tzinfo=UTC)
    with pytest.raises(ScenarioError, match="UTC offset"):
        parse_scenario("start_time = 2026-01-05T20:55:00")
