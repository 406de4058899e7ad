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
    contracts = ["MNQ1!"]   # futures walked too, on their tick grid

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
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from brokers.base import utc_now
from brokers.sim.config import SimConfig
from brokers.sim.core.assets import CENT, REFERENCE_PRICES, SUB_DOLLAR_INCREMENT
from brokers.sim.core.contracts import PRODUCTS, is_on_tick, on_tick, resolve_symbol
from brokers.sim.core.globex import trading_date
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
    # Futures contracts to walk as well (``MNQZ6``, ``MNQ1!``), in whole ticks.
    contracts: list[str] = msgspec.field(default_factory=list)


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
        equities, futures = split_prices(self.prices or {})
        return SimConfig(
            host=host,
            port=port,
            seed=self.seed,
            cash=self.cash,
            prices=equities or None,
            futures_prices=futures or None,
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
    equities, futures = split_prices(scenario.prices or {})
    listed = {s.upper() for s in equities} if equities else set(REFERENCE_PRICES)
    day = trading_date(scenario.start_time or utc_now())
    for symbol, price in futures.items():
        _check_contract_price("prices", symbol, price, day)
    if scenario.random_walk is not None:
        for symbol in scenario.random_walk.contracts:
            if resolve_symbol(symbol, day) is None:
                raise ScenarioError(f"random_walk: {symbol} is not a futures contract")
    for at, kind, payload in _raw_steps(scenario):
        if at < 0:
            raise ScenarioError(f"a {kind} step has a negative offset {at}")
        if kind == "prices":
            # Checked now: a bad move found while playing would stop the venue.
            for symbol, price in payload.items():
                if is_futures_symbol(symbol):
                    _check_contract_price(f"move at {at}", symbol, price, day)
                    continue
                if symbol.upper() not in listed:
                    raise ScenarioError(f"move at {at}: {symbol} is not a listed symbol")
                if price <= 0:
                    raise ScenarioError(f"move at {at}: invalid price {price} for {symbol}")
        if kind == "fault":
            try:
                FaultPlan().configure(payload)  # a scratch plan: only the reading matters
            except FaultError as exc:
                raise ScenarioError(f"fault at {at}: {exc}") from exc


def is_futures_symbol(symbol: str) -> bool:
    """Whether ``symbol`` names a futures contract (``MNQZ6``) or continuous one (``MNQ1!``)."""
    return resolve_symbol(symbol, utc_now().date()) is not None


def split_prices(prices: Mapping[str, Decimal]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Equity prices and futures prices, each by its upper-cased symbol."""
    equities: dict[str, Decimal] = {}
    futures: dict[str, Decimal] = {}
    for symbol, price in prices.items():
        (futures if is_futures_symbol(symbol) else equities)[symbol.upper()] = price
    return equities, futures


def _check_contract_price(where: str, symbol: str, price: Decimal, day: date) -> None:
    contract = resolve_symbol(symbol, day)
    if contract is None:
        raise ScenarioError(f"{where}: {symbol} is not a listed contract")
    if not is_on_tick(price, contract.product.tick_size):
        raise ScenarioError(
            f"{where}: price {price} of {symbol} is not on its tick grid of"
            f" {contract.product.tick_size}"
        )


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


def walk_ticks(
    prices: Mapping[str, Decimal], rng: random.Random, max_step_bps: int
) -> dict[str, Decimal]:
    """One random-walk step of futures prices: each moves by up to ``max_step_bps``, in
    symbol order, onto its product's tick grid and never below one tick."""
    moved: dict[str, Decimal] = {}
    for symbol in sorted(prices):
        contract = resolve_symbol(symbol, utc_now().date())
        tick = contract.product.tick_size if contract else PRODUCTS["MNQ"].tick_size
        change = Decimal(rng.randint(-max_step_bps, max_step_bps)) * BASIS_POINT
        moved[symbol] = max(on_tick(prices[symbol] * (1 + change), tick), tick)
    return moved


async def play_scenario(venue: SimVenue, scenario: Scenario) -> None:
    """Apply the scenario's steps at their offsets from now, and walk prices if asked.

    Returns when the script is done and there is no random walk; else runs until cancelled.
    """
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        if scenario.random_walk is not None:
            nursery.start_soon(_walk, venue, scenario.random_walk, scenario.seed)
        for at, kind, payload in scenario.steps():
            await trio.sleep_until(start + at)
            if kind == "prices":
                venue.set_prices({s.upper(): Decimal(p) for s, p in payload.items()})
            else:
                venue.apply_fault(payload)


async def _walk(venue: SimVenue, walk: RandomWalk, seed: int) -> None:
    rng = random.Random(seed)
    # The futures' own generator: walking contracts leaves the equities' walk as it was.
    futures_rng = random.Random(f"futures-walk-{seed}")
    while True:
        await trio.sleep(walk.interval)
        venue.set_prices(walk_step(venue.core.prices(), rng, walk.max_step_bps))
        if walk.contracts:
            current = venue.tradovate.core.prices()
            names = {venue.futures.contract_name(symbol) for symbol in walk.contracts}
            walked = {name: current[name] for name in names if name is not None}
            venue.set_prices(walk_ticks(walked, futures_rng, walk.max_step_bps))
