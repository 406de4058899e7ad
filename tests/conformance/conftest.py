"""The paper venue judged by the official alpaca-py SDK.

alpaca-py is blocking (requests) and asyncio (websockets): every call to it runs in a
worker thread through ``trio.to_thread.run_sync``, never on the trio loop. The tests keep a
handle on the venue itself, so they can wait until alpaca-py's stream is listening.
"""

from __future__ import annotations

import asyncio
import warnings
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import attrs
import pytest
import trio

from brokers.sim import SimConfig, SimEndpoints
from brokers.sim.server import serve_venue
from brokers.sim.venue import SimVenue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
    from uuid import UUID

    from alpaca.trading.models import (
        Asset,
        Calendar,
        Clock,
        ClosePositionResponse,
        Order,
        Position,
        TradeAccount,
        TradeUpdate,
    )
    from alpaca.trading.requests import (
        CancelOrderResponse,
        ClosePositionRequest,
        GetAssetsRequest,
        GetCalendarRequest,
        GetOrderByIdRequest,
        GetOrdersRequest,
        OrderRequest,
        ReplaceOrderRequest,
    )

# alpaca-py's TradingStream is built on websockets' deprecated legacy client.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from alpaca.data.live.stock import StockDataStream
    from alpaca.data.models import Bar, Quote, Trade
    from alpaca.trading.client import TradingClient
    from alpaca.trading.stream import TradingStream

# The models the test modules take from here, with the warning filter above.
__all__ = ["Bar", "Quote", "Trade"]

KEY, SECRET = "conformance-key", "conformance-secret"
PRICES = {"AAPL": Decimal("100.00"), "MSFT": Decimal("400.00"), "PENNY": Decimal("0.5000")}
T = TypeVar("T")


@attrs.frozen
class Venue:
    """A running venue: where it listens, and the venue object to wait on."""

    endpoints: SimEndpoints
    state: SimVenue


def venue_config(**changes: Any) -> SimConfig:
    return SimConfig(prices=PRICES, cash=Decimal(100000), key_id=KEY, secret_key=SECRET, **changes)


@asynccontextmanager
async def serving(config: SimConfig) -> AsyncIterator[Venue]:
    """A venue serving ``config`` for the duration of the block."""
    state = SimVenue.from_config(config)
    async with trio.open_nursery() as nursery:
        endpoints: SimEndpoints = await nursery.start(serve_venue, state, config)
        yield Venue(endpoints, state)
        nursery.cancel_scope.cancel()


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    async with serving(venue_config()) as running:
        yield running


class Trading(Protocol):
    """alpaca-py's TradingClient as these tests use it: it types every answer as its model or
    a raw dict (for its ``raw_data`` mode); the fixture's client never asks for raw data."""

    def get_account(self) -> TradeAccount: ...
    def submit_order(self, order_data: OrderRequest) -> Order: ...
    def get_order_by_client_id(self, client_id: str) -> Order: ...
    def get_order_by_id(
        self, order_id: UUID | str, filter: GetOrderByIdRequest | None = None
    ) -> Order: ...
    def get_orders(self, filter: GetOrdersRequest | None = None) -> list[Order]: ...
    def cancel_order_by_id(self, order_id: UUID | str) -> None: ...
    def cancel_orders(self) -> list[CancelOrderResponse]: ...
    def replace_order_by_id(
        self, order_id: UUID | str, order_data: ReplaceOrderRequest | None = None
    ) -> Order: ...
    def get_all_positions(self) -> list[Position]: ...
    def get_open_position(self, symbol_or_asset_id: UUID | str) -> Position: ...
    def close_position(
        self, symbol_or_asset_id: UUID | str, close_options: ClosePositionRequest | None = None
    ) -> Order: ...
    def close_all_positions(
        self, cancel_orders: bool | None = None
    ) -> list[ClosePositionResponse]: ...
    def get_clock(self) -> Clock: ...
    def get_asset(self, symbol_or_asset_id: UUID | str) -> Asset: ...
    def get_all_assets(self, filter: GetAssetsRequest | None = None) -> list[Asset]: ...
    def get_calendar(self, filters: GetCalendarRequest | None = None) -> list[Calendar]: ...


@pytest.fixture
def trading(venue: Venue) -> Iterator[Trading]:
    client = TradingClient(KEY, SECRET, paper=True, url_override=venue.endpoints.alpaca_url)
    # No retries: a 429 from the venue must reach the test, not be slept on. alpaca-py
    # offers no public switch for its trading client, nor a way to close its session.
    client._retry = 0
    yield cast("Trading", client)
    client._session.close()


async def in_thread(call: Callable[[], T]) -> T:
    """Run one blocking alpaca-py call off the trio loop."""
    return await trio.to_thread.run_sync(call)


def collect_trade_updates(stream_url: str, count: int, timeout: float) -> list[TradeUpdate]:
    """Listen with alpaca-py's TradingStream until ``count`` updates arrived (blocking).

    Runs its own asyncio loop, in the worker thread that calls it; gives up after
    ``timeout`` seconds with what it has.
    """
    stream = TradingStream(KEY, SECRET, paper=True, url_override=stream_url)
    received: list[TradeUpdate] = []

    async def listen() -> None:
        enough = asyncio.Event()

        async def on_update(update: TradeUpdate) -> None:
            received.append(update)
            if len(received) >= count:
                enough.set()

        stream.subscribe_trade_updates(on_update)
        # ``run()`` would own the loop; its coroutine lets this thread bound the wait.
        running = asyncio.create_task(stream._run_forever())  # type: ignore[no-untyped-call]
        try:
            await asyncio.wait_for(enough.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            await stream.stop_ws()
            await stream.close()
            await running

    asyncio.run(listen())
    return received


async def trade_updates_during(
    venue: Venue, count: int, action: Callable[[], Awaitable[object]], patience: float = 10
) -> list[TradeUpdate]:
    """The first ``count`` updates alpaca-py receives once listening while ``action`` runs."""
    received: list[TradeUpdate] = []

    async def listen() -> None:
        received.extend(
            await trio.to_thread.run_sync(
                collect_trade_updates, venue.endpoints.stream_url, count, patience
            )
        )

    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen)
        with trio.fail_after(patience):
            await venue.state.trade_updates.wait_for_subscribers(1)
        await action()
    return received


def collect_market_data(data_url: str, symbol: str, patience: float) -> list[Trade | Quote]:
    """Subscribe with alpaca-py's StockDataStream (msgpack) until a trade and a quote came.

    Blocking, with its own asyncio loop; gives up after ``patience`` seconds.
    """
    stream = StockDataStream(KEY, SECRET, url_override=data_url)
    received: list[Trade | Quote] = []

    async def listen() -> None:
        both = asyncio.Event()

        async def on_data(item: Trade | Quote) -> None:
            received.append(item)
            if {type(r) for r in received} == {Trade, Quote}:
                both.set()

        # alpaca-py types the handlers for its raw_data mode too; this stream decodes models.
        stream.subscribe_trades(on_data, symbol)  # type: ignore[arg-type]
        stream.subscribe_quotes(on_data, symbol)  # type: ignore[arg-type]
        running = asyncio.create_task(stream._run_forever())
        try:
            await asyncio.wait_for(both.wait(), patience)
        except TimeoutError:
            pass
        finally:
            await stream.stop_ws()
            await stream.close()
            await running

    asyncio.run(listen())
    return received


def collect_bars(data_url: str, symbol: str, patience: float) -> list[Bar]:
    """Subscribe to ``symbol``'s bars with alpaca-py's StockDataStream until one came.

    Blocking, with its own asyncio loop; gives up after ``patience`` seconds.
    """
    stream = StockDataStream(KEY, SECRET, url_override=data_url)
    received: list[Bar] = []

    async def listen() -> None:
        arrived = asyncio.Event()

        async def on_bar(bar: Bar) -> None:
            received.append(bar)
            arrived.set()

        stream.subscribe_bars(on_bar, symbol)  # type: ignore[arg-type]
        running = asyncio.create_task(stream._run_forever())
        try:
            await asyncio.wait_for(arrived.wait(), patience)
        except TimeoutError:
            pass
        finally:
            await stream.stop_ws()
            await stream.close()
            await running

    asyncio.run(listen())
    return received
