"""The venue's futures side over real loopback: Globex hours applied to the Tradovate
front's core as venue time passes (under the autojump clock), futures prices routed to it
and printed on its market-data channel, and ``/_sim/state`` showing its account."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest
import trio
import trio.testing

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.config import SimConfig, SimEndpoints
from brokers.sim.control import SimControl
from brokers.sim.core.orders import OrderTicket, VenueRejection
from brokers.sim.core.tape import PricePrint
from brokers.sim.server import serve_venue
from brokers.sim.tradovate.wire import listed
from brokers.sim.venue import SimVenue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

D = Decimal
# Thursday 2026-11-05, 15:50 Chicago (CST): ten minutes before the daily break.
BEFORE_BREAK = datetime(2026, 11, 5, 21, 50, tzinfo=UTC)


@asynccontextmanager
async def serving(config: SimConfig) -> AsyncIterator[tuple[SimVenue, SimEndpoints]]:
    venue = SimVenue.from_config(config)
    async with trio.open_nursery() as nursery:
        endpoints: SimEndpoints = await nursery.start(serve_venue, venue, config)
        try:
            yield venue, endpoints
        finally:
            nursery.cancel_scope.cancel()


def limit_buy(price: str, tif: TimeInForce) -> OrderTicket:
    return OrderTicket(
        symbol="MNQZ6",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=tif,
        qty=D(1),
        limit_price=D(price),
    )


async def test_the_daily_break_expires_day_orders_refuses_new_ones_and_fills_at_the_open(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """At 16:00 Chicago the Day order expires and the GTC one rests; in the break orders
    are refused (SessionClosed) and a price through the GTC limit fills nothing; at 17:00
    the next trading day begins and the limit fills."""
    config = SimConfig(start_time=BEFORE_BREAK, futures_prices={"MNQZ6": D("21000.00")})
    async with serving(config) as (venue, endpoints), httpx.AsyncClient() as http:
        core = venue.tradovate.core
        day = core.submit(limit_buy("20990.00", TimeInForce.DAY), venue.clock())
        gtc = core.submit(limit_buy("20990.00", TimeInForce.GTC), venue.clock())
        await trio.sleep(11 * 60)
        assert core.order(day.id).status == "expired"
        assert core.order(gtc.id).status == "new"
        with pytest.raises(VenueRejection) as refused:
            core.submit(limit_buy("20990.00", TimeInForce.GTC), venue.clock())
        assert refused.value.reason == "SessionClosed"
        moved = await http.post(f"{endpoints.alpaca_url}/_sim/prices", json={"MNQ1!": "20980.00"})
        assert moved.status_code == 200
        assert core.order(gtc.id).status == "new"
        state = (await http.get(f"{endpoints.alpaca_url}/_sim/state")).json()["tradovate"]
        assert (state["market_open"], state["trading_date"]) == (False, "2026-11-05")
        await trio.sleep(60 * 60)
        assert core.order(gtc.id).status == "filled"
        assert core.order(gtc.id).filled_avg_price == D("20980.00")
        state = (await http.get(f"{endpoints.alpaca_url}/_sim/state")).json()["tradovate"]
        assert (state["market_open"], state["trading_date"]) == (True, "2026-11-06")
        assert state["positions"] == [
            {"symbol": "MNQZ6", "qty": "1", "avg_entry_price": "20980.00", "open_pnl": "0.00"}
        ]


async def test_a_venue_started_in_the_weekend_opens_on_sunday_evening(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Started on a Saturday the front refuses orders; from Sunday 17:00 Chicago it trades."""
    saturday = datetime(2026, 11, 7, 18, 0, tzinfo=UTC)
    async with serving(SimConfig(start_time=saturday)) as (venue, _):
        core = venue.tradovate.core
        market = OrderTicket(
            symbol="MNQZ6", side=Side.BUY, type=OrderType.MARKET,
            time_in_force=TimeInForce.DAY, qty=D(1),
        )  # fmt: skip
        with pytest.raises(VenueRejection, match="market is closed"):
            core.submit(market, venue.clock())
        await trio.sleep(29 * 3600 + 60)  # Sunday 17:01 CST
        assert core.submit(market, venue.clock()).status == "accepted"
        assert core.order(core.orders()[0].id).status == "filled"


async def test_crossing_an_expiry_lists_the_next_maturity(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """MNQZ6 expires on Friday 2026-12-18: from Monday's trading date it no longer trades,
    MNQZ7 is listed a few ticks above MNQU7, and MNQ1! names MNQH7."""
    friday = datetime(2026, 12, 18, 20, 0, tzinfo=UTC)
    async with serving(SimConfig(start_time=friday)) as (venue, endpoints):
        core = venue.tradovate.core
        assert core.asset("MNQZ7") is None
        await trio.sleep(3 * 86400)  # Monday 14:00 CST
        expired = core.asset("MNQZ6")
        assert expired is not None
        assert not expired.tradable
        assert core.asset("MNQZ7") is not None
        assert core.price("MNQZ7") == core.price("MNQU7") + 20 * D("0.25")
        async with httpx.AsyncClient() as http:
            moved = await http.post(
                f"{endpoints.alpaca_url}/_sim/prices", json={"MNQ1!": "21111.25"}
            )
        assert moved.status_code == 200
        assert core.price("MNQH7") == D("21111.25")


async def test_futures_prices_go_to_the_front_and_its_market_data() -> None:
    """One POST moves AAPL on the Alpaca core and MNQ1! (MNQZ6) on the front's; the contract
    is printed on the front's channel only, the equity on the Alpaca data channel only."""
    config = SimConfig(prices={"AAPL": D("100.00")}, start_time=BEFORE_BREAK)
    async with serving(config) as (venue, endpoints), httpx.AsyncClient() as http:
        _, futures_prints = venue.tradovate.market_data.subscribe()
        _, equity_prints = venue.market_data.subscribe()
        body = {"AAPL": "101.00", "MNQ1!": "21004.75"}
        moved = await http.post(f"{endpoints.alpaca_url}/_sim/prices", json=body)
        assert moved.status_code == 200
        assert venue.core.price("AAPL") == D("101.00")
        assert venue.tradovate.core.price("MNQZ6") == D("21004.75")
        printed = futures_prints.receive_nowait()
        assert [(p.symbol, p.price) for p in printed if isinstance(p, PricePrint)] == [
            ("MNQZ6", D("21004.75"))
        ]
        equities = equity_prints.receive_nowait()
        assert [p.symbol for p in equities if isinstance(p, PricePrint)] == ["AAPL"]
        async with SimControl(endpoints) as control:
            state = await control.state()
            futures = await control.futures_state()
        assert state["prices"] == {"AAPL": "101.00"}
        assert futures["prices"]["MNQZ6"] == "21004.75"
        assert futures["account"]["net_liq"] == "100000"
        assert futures["account_id"] == venue.tradovate.account_id


async def test_a_futures_price_off_its_tick_grid_is_a_clear_400_and_moves_nothing() -> None:
    """MNQZ6 at 21000.10 is refused with the tick named; AAPL in the same body stays."""
    config = SimConfig(prices={"AAPL": D("100.00")}, start_time=BEFORE_BREAK)
    async with serving(config) as (venue, endpoints), httpx.AsyncClient() as http:
        before = venue.tradovate.core.price("MNQZ6")
        body = {"AAPL": "101.00", "MNQZ6": "21000.10"}
        refused = await http.post(f"{endpoints.alpaca_url}/_sim/prices", json=body)
        assert refused.status_code == 400
        assert "not on its tick grid of 0.25" in refused.json()["message"]
        assert venue.core.price("AAPL") == D("100.00")
        assert venue.tradovate.core.price("MNQZ6") == before
        unknown = await http.post(f"{endpoints.alpaca_url}/_sim/prices", json={"XYZZ9": "1"})
        assert unknown.status_code == 422


async def test_the_reprint_loop_reprints_contracts_on_the_front(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Every reprint interval the front's channel gets every contract's price again."""
    config = SimConfig(start_time=BEFORE_BREAK, reprint_interval=5.0)
    async with serving(config) as (venue, _):
        _, prints = venue.tradovate.market_data.subscribe()
        await trio.sleep(5.5)
        reprinted = prints.receive_nowait()
        symbols = {p.symbol for p in reprinted if isinstance(p, PricePrint)}
        assert symbols == {asset.symbol for asset in venue.tradovate.core.assets()}


async def test_a_position_and_a_gtc_order_in_an_expiring_contract_end_with_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Long 1 MNQZ6 bought at 21000.00, last 21010.00, and a GTC sell resting at expiry:
    once MNQZ6 no longer trades the order is over and the position is settled at its last
    price ($20.00 booked, no margin held); its position entity, under MNQZ6's own contract
    id, says netPos 0, and no entity names the MNQZ6 of ten years later."""
    friday = datetime(2026, 12, 18, 20, 0, tzinfo=UTC)
    config = SimConfig(start_time=friday, futures_prices={"MNQZ6": D("21000.00")})
    async with serving(config) as (venue, _):
        front = venue.tradovate
        core = front.core
        market = OrderTicket(
            symbol="MNQZ6", side=Side.BUY, type=OrderType.MARKET,
            time_in_force=TimeInForce.DAY, qty=D(1),
        )  # fmt: skip
        core.submit(market, venue.clock())
        gtc = core.submit(
            OrderTicket(
                symbol="MNQZ6", side=Side.SELL, type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC, qty=D(1), limit_price=D("21100.00"),
            ),
            venue.clock(),
        )  # fmt: skip
        front.publish_events()
        venue.set_prices({"MNQZ6": D("21010.00")})
        cash_before = core.futures_figures().total_cash_value
        await trio.sleep(3 * 86400)  # Monday 14:00 CST
        assert not core.order(gtc.id).is_open
        assert [p.symbol for p in core.positions()] == []
        figures = core.futures_figures()
        assert figures.total_cash_value == cash_before + D("20.00")
        assert (figures.initial_margin, figures.open_pnl) == (D(0), D(0))
        december_2026 = 4_000_000_000 + 1001 * 100_000 + 2026 * 10 + 4
        positions = front.entities.all("position")
        assert [(p["contractId"], p["netPos"]) for p in positions] == [(december_2026, 0)]
        orders = front.entities.all("order")
        assert {o["contractId"] for o in orders} == {december_2026}
        # Look-ups list only what trades: not the expired MNQZ6 read as its 2036 namesake.
        names = {c.name for c in listed(front)}
        assert "MNQZ6" not in names
        assert {"MNQH7", "MNQM7", "MNQU7", "MNQZ7"} <= names
