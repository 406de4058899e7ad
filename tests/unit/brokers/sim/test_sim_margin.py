"""The futures account of the matching core: P&L with the multiplier, margin, ticks, whole
contracts, start-of-day values. Every figure is computed by hand (MNQ: $2 a point, tick
0.25 = $0.50; MES: $5 a point; initial margin MNQ $2,100, MES $1,500)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.margin import FuturesFigures, opening_contracts
from brokers.sim.core.orders import VenueRejection
from tests.unit.brokers.sim.core_builders import make_core, ticket
from tests.unit.brokers.sim.futures_builders import MES, MNQ, T0, D, futures_core


def test_buy_three_sell_two_mark_to_market_to_the_cent() -> None:
    """Buy 3 MNQ at 21000.25, sell 2 at 21010.75, mark at 21005.00: realized $42.00
    (2 x 10.50 x $2), open $9.50 (1 x 4.75 x $2), netLiq $100,051.50, margins of one."""
    core = futures_core(mnq="21000.25")
    core.submit(ticket(MNQ.name, Side.BUY, "3"), T0)
    core.set_prices({MNQ.name: D("21010.75")}, T0)
    core.submit(ticket(MNQ.name, Side.SELL, "2"), T0)
    core.set_prices({MNQ.name: D("21005.00")}, T0)
    assert core.futures_figures() == FuturesFigures(
        total_cash_value=D("100042.00"),
        realized_pnl=D("42.00"),
        open_pnl=D("9.50"),
        net_liq=D("100051.50"),
        initial_margin=D(2100),
        maintenance_margin=D(1910),
        total_cash_value_sod=D(100000),
        net_liq_sod=D(100000),
        week_realized_pnl=D("42.00"),
    )
    assert core.realized_pl() == {MNQ.name: D("42.00")}
    assert core.account().equity == D("100051.50")


def test_a_short_loses_when_the_price_rises_and_a_fill_moves_no_cash() -> None:
    """Sell 2 MES at 6000.00, mark 6001.25: open P&L -$12.50 (2 x 1.25 x $5); cash unchanged."""
    core = futures_core(mes="6000.00")
    core.submit(ticket(MES.name, Side.SELL, "2"), T0)
    assert core.futures_figures().total_cash_value == D(100000)
    core.set_prices({MES.name: D("6001.25")}, T0)
    figures = core.futures_figures()
    assert figures.open_pnl == D("-12.50")
    assert figures.net_liq == D("99987.50")
    assert (figures.initial_margin, figures.maintenance_margin) == (D(3000), D(2720))


def test_one_tick_is_fifty_cents_on_mnq() -> None:
    """Long 1 MNQ, the price one tick up: open P&L $0.50."""
    core = futures_core(mnq="21000.00")
    core.submit(ticket(MNQ.name, Side.BUY, "1"), T0)
    core.set_prices({MNQ.name: D("21000.25")}, T0)
    assert core.futures_figures().open_pnl == D("0.50")


def test_opening_needs_initial_margin_out_of_what_is_free() -> None:
    """$5,000 carries two MNQ ($4,200); a third is refused, even as a resting limit."""
    core = futures_core(cash="5000")
    core.submit(ticket(MNQ.name, Side.BUY, "2"), T0)
    with pytest.raises(VenueRejection, match="insufficient margin"):
        core.submit(ticket(MNQ.name, Side.BUY, "1"), T0)
    with pytest.raises(VenueRejection, match="insufficient margin"):
        core.submit(
            ticket(MNQ.name, Side.BUY, "1", order_type=OrderType.LIMIT, limit="20000.00"), T0
        )


def test_two_resting_entries_never_share_one_margin() -> None:
    """$3,000: a resting buy limit holds $2,100, so a second one is refused."""
    core = futures_core(cash="3000")
    core.submit(ticket(MNQ.name, Side.BUY, "1", order_type=OrderType.LIMIT, limit="20000.00"), T0)
    with pytest.raises(VenueRejection, match="insufficient margin"):
        core.submit(
            ticket(MNQ.name, Side.BUY, "1", order_type=OrderType.LIMIT, limit="19999.00"), T0
        )


def test_closing_is_always_allowed_even_with_no_margin_left() -> None:
    """Long 2 MNQ at $4,200 free of $5,000, the price falls $500 a contract: selling works."""
    core = futures_core(cash="5000", mnq="21000.00")
    core.submit(ticket(MNQ.name, Side.BUY, "2"), T0)
    core.set_prices({MNQ.name: D("20750.00")}, T0)
    assert core.account().buying_power == 0
    core.submit(ticket(MNQ.name, Side.SELL, "2"), T0)
    assert core.positions() == []
    assert core.futures_figures().total_cash_value == D(4000)


def test_a_flip_needs_margin_for_its_far_side() -> None:
    """Long 1, sell 3: two contracts open short, so two initial margins."""
    assert opening_contracts(Side.SELL, D(3), D(1), []) == D(2)
    assert opening_contracts(Side.SELL, D(1), D(3), []) == D(0)
    assert opening_contracts(Side.BUY, D(2), D(-1), []) == D(1)
    assert opening_contracts(Side.BUY, D(2), D(1), []) == D(2)


def test_whole_contracts_only() -> None:
    """1.5 contracts and a notional order are refused."""
    core = futures_core()
    with pytest.raises(VenueRejection, match="not fractionable"):
        core.submit(ticket(MNQ.name, Side.BUY, "1.5"), T0)
    with pytest.raises(VenueRejection):
        core.submit(ticket(MNQ.name, Side.BUY, None, notional="1000"), T0)


@pytest.mark.parametrize(
    ("order_type", "limit", "stop"),
    [
        (OrderType.LIMIT, "21000.10", None),
        (OrderType.STOP, None, "21010.30"),
        (OrderType.STOP_LIMIT, "21010.25", "21010.01"),
    ],
)
def test_prices_off_the_tick_grid_are_refused(
    order_type: OrderType, limit: str | None, stop: str | None
) -> None:
    """A limit or stop price between ticks is refused as InvalidPrice."""
    core = futures_core()
    with pytest.raises(VenueRejection, match=r"ticks of 0\.25") as refused:
        core.submit(
            ticket(MNQ.name, Side.BUY, "1", order_type=order_type, limit=limit, stop=stop), T0
        )
    assert refused.value.reason == "InvalidPrice"


def test_prices_on_the_tick_grid_are_taken() -> None:
    """A limit at 20999.75 rests."""
    core = futures_core()
    order = core.submit(
        ticket(MNQ.name, Side.BUY, "1", order_type=OrderType.LIMIT, limit="20999.75"), T0
    )
    assert core.order(order.id).status == "new"


def test_the_equity_core_keeps_its_penny_rules_and_buying_power() -> None:
    """An equity core still refuses sub-penny prices and spends cash on a buy."""
    core = make_core()
    with pytest.raises(VenueRejection, match="sub-penny"):
        core.submit(ticket("AAPL", order_type=OrderType.LIMIT, limit="99.991"), T0)
    core.submit(ticket("AAPL", qty="10"), T0)
    assert core.account().cash == D(99000)
    with pytest.raises(TypeError):
        core.futures_figures()


def test_start_of_day_values_and_the_week() -> None:
    """A new trading day takes netLiq and cash value at its start; a new week zeroes the
    week's realized P&L, another day of the same week keeps it."""
    core = futures_core(mnq="21000.00")
    core.submit(ticket(MNQ.name, Side.BUY, "2"), T0)
    core.set_prices({MNQ.name: D("21010.00")}, T0)
    core.submit(ticket(MNQ.name, Side.SELL, "1"), T0)  # realized $20.00, open $20.00
    core.halt_trading(T0)
    core.resume_trading(T0 + timedelta(hours=1), date(2026, 11, 3))
    figures = core.futures_figures()
    assert (figures.total_cash_value_sod, figures.net_liq_sod) == (D(100020), D(100040))
    assert (figures.realized_pnl, figures.week_realized_pnl) == (D(0), D(20))
    core.submit(ticket(MNQ.name, Side.SELL, "1"), T0)  # realized $20.00 more
    core.resume_trading(T0 + timedelta(days=1), date(2026, 11, 4))
    assert core.futures_figures().week_realized_pnl == D(40)
    core.resume_trading(T0 + timedelta(days=7), date(2026, 11, 9))
    figures = core.futures_figures()
    assert (figures.week_realized_pnl, figures.total_cash_value_sod) == (D(0), D(100040))


def test_a_closed_market_refuses_orders_and_fills_nothing() -> None:
    """In the break: new orders refused as SessionClosed, a price move fills no resting
    order, Day orders have expired and GTC orders rest; at the open the GTC limit fills."""
    core = futures_core(mnq="21000.00")
    day = core.submit(
        ticket(MNQ.name, Side.BUY, "1", order_type=OrderType.LIMIT, limit="20990.00"), T0
    )
    gtc = core.submit(
        ticket(
            MNQ.name,
            Side.BUY,
            "1",
            order_type=OrderType.LIMIT,
            limit="20990.00",
            tif=TimeInForce.GTC,
        ),
        T0,
    )
    core.halt_trading(T0)
    assert core.order(day.id).status == "expired"
    with pytest.raises(VenueRejection, match="market is closed") as refused:
        core.submit(ticket(MNQ.name, Side.BUY, "1"), T0)
    assert refused.value.reason == "SessionClosed"
    core.set_prices({MNQ.name: D("20980.00")}, T0)
    assert core.order(gtc.id).status == "new"
    core.resume_trading(T0 + timedelta(hours=1))
    assert core.order(gtc.id).status == "filled"
    assert core.order(gtc.id).filled_avg_price == D("20980.00")


def test_a_round_trip_at_three_prices_books_exactly_its_points() -> None:
    """Buy 1 MNQ at 21000.00 and 2 at 21000.25, sell all 3 at 21001.00 in two fills:
    1.00 + 2 x 0.75 = 2.50 points, $5.00 exactly (no remainder of a one-third average)."""
    core = futures_core(mnq="21000.00")
    core.submit(ticket(MNQ.name, Side.BUY, "1"), T0)
    core.set_prices({MNQ.name: D("21000.25")}, T0)
    core.submit(ticket(MNQ.name, Side.BUY, "2"), T0)
    core.set_prices({MNQ.name: D("21001.00")}, T0)
    core.submit(ticket(MNQ.name, Side.SELL, "1"), T0)
    core.submit(ticket(MNQ.name, Side.SELL, "2"), T0)
    figures = core.futures_figures()
    assert figures.total_cash_value == D("100005.00")
    assert figures.realized_pnl == D("5.00")
    assert core.realized_pl() == {MNQ.name: D("5.00")}


def test_a_partial_close_realizes_its_oldest_contracts_first() -> None:
    """Long 1 MNQ at 21000.00 then 2 at 21000.25; selling 1 at 21001.00 closes the oldest
    (FIFO, as a futures account pairs fills): realized $2.00, the rest open at 21000.25
    with $3.00 of open P&L (2 x 0.75 x $2), all to the cent."""
    core = futures_core(mnq="21000.00")
    core.submit(ticket(MNQ.name, Side.BUY, "1"), T0)
    core.set_prices({MNQ.name: D("21000.25")}, T0)
    core.submit(ticket(MNQ.name, Side.BUY, "2"), T0)
    core.set_prices({MNQ.name: D("21001.00")}, T0)
    core.submit(ticket(MNQ.name, Side.SELL, "1"), T0)
    figures = core.futures_figures()
    assert figures.realized_pnl == D("2.00")
    assert figures.open_pnl == D("3.00")
    assert figures.net_liq == D("100005.00")
    (position,) = core.positions()
    assert (position.qty, position.avg_entry_price) == (D(2), D("21000.25"))


def test_a_flip_through_several_lots_opens_the_far_side_at_the_fill() -> None:
    """Short 1 MES at 6000.00 and 1 at 6001.00; buying 3 at 5999.00 closes both (1.00 +
    2.00 points x $5 = $15.00) and leaves long 1 at 5999.00."""
    core = futures_core(mes="6000.00")
    core.submit(ticket(MES.name, Side.SELL, "1"), T0)
    core.set_prices({MES.name: D("6001.00")}, T0)
    core.submit(ticket(MES.name, Side.SELL, "1"), T0)
    core.set_prices({MES.name: D("5999.00")}, T0)
    core.submit(ticket(MES.name, Side.BUY, "3"), T0)
    figures = core.futures_figures()
    assert figures.realized_pnl == D("15.00")
    assert figures.open_pnl == D(0)
    (position,) = core.positions()
    assert (position.qty, position.avg_entry_price) == (D(1), D("5999.00"))
