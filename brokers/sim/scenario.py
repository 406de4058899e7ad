"""Scenario files for ``tradingd sim --scenario FILE``: starting prices, scripted price moves
and faults at given offsets, and an optional seeded random walk.

A scenario is TOML (see brokers/sim/README.md for the full format)::

    seed = 42
    cash = "100000"
    start_time = 2026-01-05T20:55:00Z

    [prices]
    AAPL = "187.20"

    [random_walk]
    interval = 1.0
    max_step_bps = 20

    [[moves]]
    at = 5.0
    prices = { AAPL = "185.00" }

    [[faults]]
    at = 10.0
    fault = "stall_stream"
    seconds = 5

Parsing and the random walk are pure; ``play_scenario`` is the trio shell that applies the
steps to a running venue at their offsets. The same file and seed give the same prices at
the same offsets, so the same orders get the same fills.
"""

from __future__ import annotations

import random
import tomllib
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from brokers.sim.config import SimConfig
from brokers.sim.core.assets import CENT, REFERENCE_PRICES, SUB_DOLLAR_INCREMENT
from brokers.sim.faults import FaultError, FaultPlan

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from brokers.sim.venue import SimVenue

BASIS_POINT = Decimal("0.0001")


class ScenarioError(ValueError):
    """A scenario file that cannot be read or does not make sense."""


class PriceMove(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    at: float  # seconds after the venue started
    prices: dict[str, Decimal]


class RandomWalk(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    interval: float = 1.0  # seconds between steps
    max_step_bps: int = 20  # each step moves each price by at most this many basis points


class Scenario(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seed: int = 7
    cash: Decimal = Decimal(100000)
    fill_size: Decimal | None = None
    rate_limit_per_minute: int | None = None
    start_time: datetime | None = None  # the venue's time at start (None: the system's)
    prices: dict[str, Decimal] | None = None  # None: the seeded default universe
    random_walk: RandomWalk | None = None
    moves: list[PriceMove] = msgspec.field(default_factory=list)
    # Each a fault request as POST /_sim/faults takes it, plus ``at``.
    faults: list[dict[str, Any]] = msgspec.field(default_factory=list)

    def sim_config(self, *, host: str = "127.0.0.1", port: int = 0) -> SimConfig:
        return SimConfig(
            host=host,
            port=port,
            seed=self.seed,
            cash=self.cash,
            prices=self.prices,
            fill_size=self.fill_size,
            rate_limit_per_minute=self.rate_limit_per_minute,
            start_time=self.start_time,
        )

    def steps(self) -> list[tuple[float, str, dict[str, Any]]]:
        """Every scripted step as (offset, "prices" | "fault", payload), by offset; a move
        and a fault at the same offset apply in file order, moves first."""
        timed: list[tuple[float, int, str, dict[str, Any]]] = []
        for index, move in enumerate(self.moves):
            timed.append((move.at, index, "prices", dict(move.prices)))
        for index, fault in enumerate(self.faults):
            spec = {k: v for k, v in fault.items() if k != "at"}
            timed.append((float(fault["at"]), len(self.moves) + index, "fault", spec))
        return [(at, kind, payload) for at, _, kind, payload in sorted(timed)]


def parse_scenario(text: str) -> Scenario:
    """A scenario from TOML text; ScenarioError says what is wrong."""
    try:
        scenario = msgspec.convert(tomllib.loads(text), Scenario, strict=False)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ScenarioError(f"invalid scenario: {exc}") from exc
    _check(scenario)
    return scenario


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
    return parse_scenario(text)


def _check(scenario: Scenario) -> None:
    if scenario.random_walk is not None and scenario.random_walk.interval <= 0:
        raise ScenarioError("random_walk.interval must be > 0")
    if scenario.fill_size is not None and scenario.fill_size <= 0:
        raise ScenarioError("fill_size must be > 0")
    if scenario.rate_limit_per_minute is not None and scenario.rate_limit_per_minute <= 0:
        raise ScenarioError("rate_limit_per_minute must be > 0")
    if scenario.start_time is not None and scenario.start_time.tzinfo is None:
        raise ScenarioError("start_time needs a UTC offset, e.g. 2026-01-05T20:55:00Z")
    listed = {s.upper() for s in scenario.prices} if scenario.prices else set(REFERENCE_PRICES)
    for at, kind, payload in _raw_steps(scenario):
        if at < 0:
            raise ScenarioError(f"a {kind} step has a negative offset {at}")
        if kind == "prices":
            # Checked now: a bad move found while playing would stop the venue.
            for symbol, price in payload.items():
                if symbol.upper() not in listed:
                    raise ScenarioError(f"move at {at}: {symbol} is not a listed symbol")
                if price <= 0:
                    raise ScenarioError(f"move at {at}: invalid price {price} for {symbol}")
        if kind == "fault":
            try:
                FaultPlan().configure(payload)  # a scratch plan: only the reading matters
            except FaultError as exc:
                raise ScenarioError(f"fault at {at}: {exc}") from exc


def _raw_steps(scenario: Scenario) -> list[tuple[float, str, dict[str, Any]]]:
    for fault in scenario.faults:
        if "at" not in fault:
            raise ScenarioError("every fault needs an offset `at`")
        try:
            float(fault["at"])
        except (TypeError, ValueError):
            raise ScenarioError(f"invalid fault offset {fault['at']!r}") from None
    return scenario.steps()


def walk_step(
    prices: Mapping[str, Decimal], rng: random.Random, max_step_bps: int
) -> dict[str, Decimal]:
    """One random-walk step: every price moves by up to ``max_step_bps``, in symbol order,
    rounded to a valid tick and never below the smallest one."""
    moved: dict[str, Decimal] = {}
    for symbol in sorted(prices):
        change = Decimal(rng.randint(-max_step_bps, max_step_bps)) * BASIS_POINT
        raw = prices[symbol] * (1 + change)
        tick = CENT if raw >= 1 else SUB_DOLLAR_INCREMENT
        moved[symbol] = max(raw.quantize(tick, rounding=ROUND_HALF_EVEN), SUB_DOLLAR_INCREMENT)
    return moved


async def play_scenario(venue: SimVenue, scenario: Scenario) -> None:
    """Apply the scenario's steps at their offsets from now, and walk prices if asked.

    Returns when the script is done and there is no random walk; else runs until cancelled.
    """
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        if scenario.random_walk is not None:
            nursery.start_soon(_walk, venue, scenario.random_walk, random.Random(scenario.seed))
        for at, kind, payload in scenario.steps():
            await trio.sleep_until(start + at)
            if kind == "prices":
                venue.set_prices({s.upper(): Decimal(p) for s, p in payload.items()})
            else:
                venue.apply_fault(payload)


async def _walk(venue: SimVenue, walk: RandomWalk, rng: random.Random) -> None:
    while True:
        await trio.sleep(walk.interval)
        venue.set_prices(walk_step(venue.core.prices(), rng, walk.max_step_bps))
