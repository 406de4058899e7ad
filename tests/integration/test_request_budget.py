"""The Alpaca adapter paced by its request budget against the paper venue over loopback:
the venue's limit is never hit, and what the venue says holds the budget back."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

import pytest
import trio

from brokers.alpaca import AlpacaBroker
from brokers.base import OrderRequest, Side
from brokers.budget import RequestBudget, VenueBudget
from brokers.errors import OrderNotFound, RateLimited
from brokers.sim import SimConfig, SimControl, SimEndpoints, running_sim
from tests.integration.sim_fixtures import PRICES
from tests.windows import busiest_minute

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager


def budgeted(venue: SimEndpoints, budget: VenueBudget | None) -> AlpacaBroker:
    return AlpacaBroker(
        base_url=venue.alpaca_url,
        stream_url=venue.stream_url,
        key_id="key",
        secret_key="secret",
        budget=budget,
    )


def order(n: int) -> OrderRequest:
    return OrderRequest(client_order_id=f"o{n}", symbol="AAPL", side=Side.BUY, qty=Decimal(1))


async def mixed_load(broker: AlpacaBroker) -> int:
    """Orders, look-ups and reads at once: 300 calls, half again a minute's 200. How many
    the venue refused for rate."""
    refused = 0

    async def counting(call: Callable[[], Awaitable[object]]) -> None:
        nonlocal refused
        try:
            await call()
        except RateLimited:
            refused += 1

    async with trio.open_nursery() as nursery:
        for n in range(120):
            nursery.start_soon(counting, partial(broker.submit_order, order(n)))
        for n in range(120):
            nursery.start_soon(counting, partial(broker.get_order_by_client_id, f"o{n}"))
        for _ in range(30):
            nursery.start_soon(counting, broker.list_positions)
            nursery.start_soon(counting, broker.get_account)
    return refused


def limited_venue(per_minute: int) -> AbstractAsyncContextManager[SimEndpoints]:
    return running_sim(SimConfig(prices=PRICES, rate_limit_per_minute=per_minute))


async def test_a_mixed_load_never_meets_the_venues_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """300 calls through a budget of 200 a minute at a venue limited to 200: no 429."""
    async with limited_venue(200) as venue, SimControl(venue) as control:
        budget = VenueBudget(RequestBudget.per_minute(200))
        async with budgeted(venue, budget) as broker:
            refused = await mixed_load(broker)
        state = await control.state()
    assert refused == 0
    assert state["rate_limited"] == 0
    assert len(state["requests"]) == 300
    assert busiest_minute(state["requests"]) <= 200
    assert trio.current_time() >= 60.0  # the load did need pacing


async def test_without_the_budget_the_same_load_meets_429s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The same load unpaced: the venue refuses some (the test above is not vacuous)."""
    async with limited_venue(200) as venue, SimControl(venue) as control:
        async with budgeted(venue, None) as broker:
            refused = await mixed_load(broker)
        state = await control.state()
    assert refused == state["rate_limited"] == 100


async def test_the_paper_venue_counts_its_limit_per_key(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two keys, a limit of two: each key gets its own two, the third of either is 429."""
    async with limited_venue(2) as venue:
        for key in ("key-one", "key-two"):
            broker = AlpacaBroker(
                base_url=venue.alpaca_url, stream_url=venue.stream_url, key_id=key, secret_key="s"
            )
            async with broker:
                await broker.get_account()
                await broker.get_account()
                with pytest.raises(RateLimited):
                    await broker.get_account()


@pytest.fixture
async def answering_429_first() -> AsyncIterator[tuple[AlpacaBroker, SimControl]]:
    """A venue whose first answer is 429 with Retry-After 30, and a budgeted broker on it."""
    async with running_sim(SimConfig(prices=PRICES)) as venue, SimControl(venue) as control:
        await control.fault("http_status", status=429, count=1, retry_after=30)
        async with budgeted(venue, VenueBudget(RequestBudget.per_minute(200))) as broker:
            yield broker, control


async def test_a_429_with_retry_after_holds_everything_non_urgent_until_then(
    autojump_clock: trio.testing.MockClock,
    answering_429_first: tuple[AlpacaBroker, SimControl],
) -> None:
    """The first read is refused with Retry-After 30: the order and the read asked
    meanwhile reach the venue 30 s later; a cancel still goes at once."""
    broker, control = answering_429_first
    went: dict[str, float] = {}

    async def timed(name: str, call: Callable[[], Awaitable[object]]) -> None:
        await call()
        went[name] = trio.current_time()

    with pytest.raises(RateLimited):
        await broker.get_account()
    refused_at = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(timed, "order", lambda: broker.submit_order(order(1)))
        nursery.start_soon(timed, "read", broker.list_positions)
        nursery.start_soon(timed, "lookup", lambda: broker.get_order_by_client_id("o1"))
        nursery.start_soon(timed, "cancel", lambda: cancel_unknown(broker))
    # The 429 also says none remain until its window's reset, a whole second away and
    # counted a second late at worst: that holds the cancel, 30 s do not.
    assert went["cancel"] - refused_at <= 2.0
    assert min(went["order"], went["read"], went["lookup"]) - refused_at >= 30.0
    state = await control.state()
    assert len(state["requests"]) == 5


async def cancel_unknown(broker: AlpacaBroker) -> None:
    """A cancel of an order the venue does not know: it answers 404 (only its timing counts)."""
    with pytest.raises(OrderNotFound):
        await broker.cancel_order("no-such-order")
