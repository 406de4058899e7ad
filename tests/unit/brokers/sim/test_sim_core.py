"""The paper venue's matching core: fills, positions, P&L, refusals, resting orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.assets import build_universe, seeded_prices
from brokers.sim.core.orders import OrderTicket, VenueRejection
from tests.unit.brokers.sim.core_builders import T0, make_core, ticket

if TYPE_CHECKING:
    from brokers.sim.core.matching import MatchingCore

D = Decimal


def rejection(core: MatchingCore, order: OrderTicket) -> VenueRejection:
    with pytest.raises(VenueRejection) as info:
        core.submit(order, T0)
    return info.value


def test_market_order_is_accepted_then_filled_at_the_current_price() -> None:
    """A market order answers as accepted, then emits new and fill, and shows filled."""
    core = make_core()
    accepted = core.submit(ticket(cid="c1"), T0)
    assert (accepted.status, accepted.filled_qty) == ("accepted", D(0))
    events = core.take_events()
    assert [e.event for e in events] == ["new", "fill"]
    fill = events[1]
    assert (fill.price, fill.qty, fill.position_qty) == (D("100.00"), D(10), D(10))
    assert fill.execution_id != events[0].execution_id
    stored = core.order(accepted.id)
    assert (stored.status, stored.filled_qty, stored.filled_avg_price) == ("filled", D(10), D(100))
    assert core.order_by_client_id("c1") == stored
    assert core.take_events() == []


def test_account_after_a_buy_moves_cash_into_market_value() -> None:
    """Cash drops by the cost, equity is cash plus market value, buying power equals cash."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    core.set_prices({"AAPL": D("110")}, T0)
    account = core.account()
    assert account.cash == D(99000)
    assert account.long_market_value == D(1100)
    assert account.equity == D(100100)
    assert account.buying_power == D(99000)


def test_average_entry_price_is_quantity_weighted() -> None:
    """Adding to a position averages the entry prices by quantity."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    core.set_prices({"AAPL": D("130")}, T0)
    core.submit(ticket(qty="5"), T0)
    position = core.position("AAPL")
    assert position.qty == D(15)
    assert position.avg_entry_price == D(110)


def test_selling_realizes_pnl_and_keeps_the_entry_price() -> None:
    """A partial sale realizes (price - entry) per share; a full sale removes the position."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    core.set_prices({"AAPL": D("120")}, T0)
    core.submit(ticket(side=Side.SELL, qty="4"), T0)
    assert core.position("AAPL").avg_entry_price == D(100)
    assert core.realized_pl() == {"AAPL": D(80)}
    core.set_prices({"AAPL": D("90")}, T0)
    core.submit(ticket(side=Side.SELL, qty="6"), T0)
    assert core.realized_pl() == {"AAPL": D(20)}
    assert core.positions() == []
    with pytest.raises(VenueRejection) as info:
        core.position("AAPL")
    assert (info.value.status, info.value.code) == (404, 40410000)


def test_short_position_reserves_buying_power_and_covers_with_profit() -> None:
    """A short is negative, reserves its value from buying power, and profits when covered lower."""
    core = make_core()
    core.submit(ticket(side=Side.SELL, qty="10"), T0)
    events = core.take_events()
    assert events[-1].position_qty == D(-10)
    account = core.account()
    assert account.cash == D(101000)
    assert account.short_market_value == D(-1000)
    assert account.equity == D(100000)
    assert account.buying_power == D(99000)
    core.set_prices({"AAPL": D("80")}, T0)
    core.submit(ticket(side=Side.BUY, qty="10"), T0)
    assert core.realized_pl() == {"AAPL": D(200)}
    assert core.account().equity == D(100200)


def test_buy_beyond_buying_power_is_refused_with_alpaca_body() -> None:
    """An unaffordable buy is 403 40310000 with buying_power and cost_basis."""
    core = make_core(cash="1000")
    refused = rejection(core, ticket(qty="11", cid="big"))
    assert refused.status == 403
    assert refused.body == {
        "code": 40310000,
        "message": "insufficient buying power",
        "buying_power": "1000",
        "cost_basis": "1100",
    }
    assert core.orders() == []
    assert core.submissions() == {"big": 1}


def test_selling_more_than_held_is_refused_as_insufficient_qty() -> None:
    """A sell beyond the long position would flip it: 403 insufficient qty with details."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    refused = rejection(core, ticket(side=Side.SELL, qty="15"))
    assert refused.status == 403
    assert refused.code == 40310000
    assert refused.message.startswith("insufficient qty available for order")
    assert refused.extras["available"] == "10"
    assert refused.extras["existing_qty"] == "10"


def test_duplicate_client_order_id_is_refused_and_counted() -> None:
    """A second order with the same client_order_id is 422 40010001 and both attempts count."""
    core = make_core()
    core.submit(ticket(cid="dup"), T0)
    refused = rejection(core, ticket(cid="dup"))
    assert (refused.status, refused.body) == (
        422,
        {"code": 40010001, "message": "client_order_id must be unique"},
    )
    assert core.submissions() == {"dup": 2}
    assert len(core.orders()) == 1


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (ticket(symbol="NOPE"), 'could not find asset "NOPE"'),
        (ticket(symbol="HALT"), "asset HALT is not tradable"),
        (
            ticket(order_type=OrderType.LIMIT, limit="99.123"),
            "invalid limit_price 99.123. sub-penny increment does not fulfill minimum"
            " pricing criteria",
        ),
        (ticket(symbol="HARD", side=Side.SELL), 'asset "HARD" cannot be sold short'),
        (ticket(symbol="HARD", qty="0.5"), "requested asset is not fractionable"),
        (ticket(order_type=OrderType.LIMIT), "limit_price is required"),
        (ticket(qty="0"), "qty must be > 0"),
        (ticket(qty=None), "qty or notional is required"),
    ],
)
def test_invalid_orders_are_unprocessable(order: OrderTicket, message: str) -> None:
    """Unknown or untradable symbols, sub-penny prices and bad shapes are 422 42210000."""
    refused = rejection(make_core(), order)
    assert (refused.status, refused.code, refused.message) == (422, 42210000, message)


def test_sub_dollar_prices_allow_four_decimals() -> None:
    """Below $1 a limit price may carry four decimals."""
    core = make_core(PENNY="0.5000")
    core.submit(ticket(symbol="PENNY", order_type=OrderType.LIMIT, limit="0.4512"), T0)
    assert core.orders()[0].status == "new"


def test_limit_order_rests_then_fills_when_the_price_reaches_it() -> None:
    """A buy limit below the market rests as new, holds buying power, and fills on a drop."""
    core = make_core()
    accepted = core.submit(ticket(order_type=OrderType.LIMIT, limit="95.00"), T0)
    assert [e.event for e in core.take_events()] == ["new"]
    assert core.order(accepted.id).status == "new"
    assert core.account().buying_power == D(100000) - D(950)
    core.set_prices({"AAPL": D("96")}, T0)
    assert core.take_events() == []
    later = T0 + timedelta(minutes=1)
    core.set_prices({"AAPL": D("94.50")}, later)
    (fill,) = core.take_events()
    assert (fill.event, fill.price, fill.timestamp) == ("fill", D("94.50"), later)
    assert core.order(accepted.id).filled_at == later
    assert core.account().buying_power == D(100000) - D(945)


def test_marketable_limit_order_fills_at_once_at_the_better_price() -> None:
    """A buy limit above the market fills immediately at the market price."""
    core = make_core()
    core.submit(ticket(order_type=OrderType.LIMIT, limit="105.00"), T0)
    assert core.take_events()[-1].price == D(100)


def test_stop_order_triggers_when_the_price_crosses() -> None:
    """A sell stop rests until the price falls to it, then fills at that price."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    core.take_events()
    stop = core.submit(ticket(side=Side.SELL, order_type=OrderType.STOP, stop="90.00"), T0)
    core.set_prices({"AAPL": D("91")}, T0)
    assert core.order(stop.id).status == "new"
    core.set_prices({"AAPL": D("89.90")}, T0)
    assert core.order(stop.id).status == "filled"
    assert core.positions() == []


def test_ioc_limit_that_cannot_fill_expires() -> None:
    """An immediate-or-cancel limit away from the market expires at once, hold released."""
    core = make_core()
    ioc = core.submit(ticket(order_type=OrderType.LIMIT, limit="90.00", tif=TimeInForce.IOC), T0)
    assert [e.event for e in core.take_events()] == ["new", "expired"]
    expired = core.order(ioc.id)
    assert (expired.status, expired.expired_at, expired.hold) == ("expired", T0, D(0))


def test_cancel_releases_the_hold_and_a_final_order_cannot_be_canceled() -> None:
    """Cancel ends a resting order; canceling again is 422; an unknown id is 404."""
    core = make_core()
    resting = core.submit(ticket(order_type=OrderType.LIMIT, limit="90.00"), T0)
    core.cancel(resting.id, T0)
    assert core.take_events()[-1].event == "canceled"
    assert core.order(resting.id).status == "canceled"
    assert core.account().buying_power == D(100000)
    with pytest.raises(VenueRejection) as again:
        core.cancel(resting.id, T0)
    assert again.value.status == 422
    with pytest.raises(VenueRejection) as unknown:
        core.cancel("nope", T0)
    assert unknown.value.body == {"code": 40410000, "message": "order not found"}


def test_open_sell_orders_hold_shares() -> None:
    """Shares promised to a resting sell cannot be sold twice."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    core.submit(ticket(side=Side.SELL, qty="8", order_type=OrderType.LIMIT, limit="120.00"), T0)
    refused = rejection(core, ticket(side=Side.SELL, qty="3"))
    assert refused.extras["available"] == "2"
    assert refused.extras["held_for_orders"] == "8"


def test_submissions_count_every_attempt_per_client_order_id() -> None:
    """Accepted and refused attempts both count; ids without attempts are absent."""
    core = make_core(cash="1000")
    core.submit(ticket(qty="1", cid="a"), T0)
    rejection(core, ticket(qty="100", cid="b"))
    rejection(core, ticket(qty="1", cid="a"))
    assert core.submissions() == {"a": 2, "b": 1}


def test_notional_order_buys_a_fraction() -> None:
    """A notional buy turns dollars into shares rounded down to nine decimals."""
    core = make_core()
    core.submit(ticket(qty=None, notional="250"), T0)
    assert core.position("AAPL").qty == D("2.5")


def test_close_position_sends_the_opposite_market_order() -> None:
    """Closing a short buys back its size."""
    core = make_core()
    core.submit(ticket(side=Side.SELL, qty="3"), T0)
    order = core.close_position("AAPL", None, T0)
    assert (order.side, order.qty) == (Side.BUY, D(3))
    assert core.positions() == []


def test_same_seed_same_prices() -> None:
    """The seed fixes the starting prices; another seed gives others."""
    assert seeded_prices(7) == seeded_prices(7)
    assert seeded_prices(7) != seeded_prices(8)
    assets, prices = build_universe(7, None)
    assert {a.symbol for a in assets} == set(prices)
    assert len(prices) == 10
    assert all(p == p.quantize(D("0.01")) and p > 0 for p in prices.values())
