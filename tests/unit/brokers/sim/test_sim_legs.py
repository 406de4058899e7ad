"""The matching core's multi-leg orders: bracket, oto and oco, and PATCH replace."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.alpaca.events import fills_first
from brokers.sim.core.matching import MatchingCore
from brokers.sim.core.orders import OrderChanges, OrderTicket, SimEvent, VenueRejection
from tests.unit.brokers.sim.core_builders import T0, make_core, ticket

D = Decimal


def with_exits(
    base: OrderTicket, order_class: str, take_profit: str | None, stop_loss: str | None
) -> OrderTicket:
    return msgspec.structs.replace(
        base,
        order_class=order_class,
        take_profit_limit=D(take_profit) if take_profit else None,
        stop_loss_stop=D(stop_loss) if stop_loss else None,
    )


def bracket(entry_limit: str | None = None, qty: str = "10") -> OrderTicket:
    order_type = OrderType.LIMIT if entry_limit else OrderType.MARKET
    base = ticket(qty=qty, order_type=order_type, limit=entry_limit, tif=TimeInForce.GTC)
    return with_exits(base, "bracket", "110", "95")


def summary(events: list[SimEvent]) -> list[tuple[str, str, str]]:
    return [(e.event, e.order.type.value, e.order.status) for e in events]


def test_bracket_exits_are_held_until_the_entry_fills() -> None:
    """A resting bracket entry keeps both exits held and unfillable, even past their prices."""
    core = make_core()
    entry = core.submit(bracket(entry_limit="96"), T0)
    take_profit, stop_loss = core.legs(core.order(entry.id))
    assert (take_profit.status, stop_loss.status) == ("held", "held")
    assert (take_profit.side, take_profit.limit_price) == (Side.SELL, D(110))
    assert (stop_loss.type, stop_loss.stop_price) == (OrderType.STOP, D(95))
    core.take_events()
    core.set_prices({"AAPL": D("111")}, T0)  # past the take-profit, entry still unfilled
    assert core.take_events() == []
    core.set_prices({"AAPL": D("94")}, T0)  # entry fills at 94, below the stop: stop fires
    events = core.take_events()
    assert summary(events) == [
        ("fill", "limit", "filled"),
        ("new", "limit", "new"),
        ("fill", "stop", "filled"),
        ("canceled", "limit", "canceled"),
    ]
    assert events[-1].sibling_cancel
    assert core.positions() == []


def test_bracket_take_profit_fills_and_cancels_the_stop() -> None:
    """After the entry fills the stop leg stays held; the take-profit's fill cancels it."""
    core = make_core()
    entry = core.submit(bracket(), T0)
    assert [e.event for e in core.take_events()] == ["new", "fill", "new"]
    take_profit, stop_loss = core.legs(core.order(entry.id))
    assert (take_profit.status, stop_loss.status) == ("new", "held")
    assert core.held_for_orders("AAPL") == D(10)
    core.set_prices({"AAPL": D("111")}, T0)
    assert summary(core.take_events()) == [
        ("fill", "limit", "filled"),
        ("canceled", "stop", "canceled"),
    ]
    assert core.realized_pl() == {"AAPL": D(110)}


def test_canceling_an_unfilled_bracket_cancels_its_legs() -> None:
    """Canceling the entry before it fills cancels both held exits with it."""
    core = make_core()
    entry = core.submit(bracket(entry_limit="90"), T0)
    core.take_events()
    core.cancel(entry.id, T0)
    assert [e.event for e in core.take_events()] == ["canceled"] * 3
    assert not any(o.is_open for o in core.orders())


def test_oto_arms_its_single_exit_after_the_entry() -> None:
    """An oto with only a stop-loss arms that stop when the entry fills."""
    core = make_core()
    entry = core.submit(with_exits(ticket(qty="5"), "oto", None, "95"), T0)
    (stop_loss,) = core.legs(core.order(entry.id))
    assert stop_loss.armed
    core.set_prices({"AAPL": D("95")}, T0)
    assert core.order(stop_loss.id).status == "filled"
    assert core.positions() == []


def test_oco_works_both_exits_at_once_and_one_cancels_the_other() -> None:
    """An oco sell is a take-profit limit plus a held stop; the stop's fill cancels the limit."""
    core = make_core()
    core.submit(ticket(qty="10"), T0)
    oco = with_exits(
        ticket(side=Side.SELL, qty="10", order_type=OrderType.LIMIT), "oco", "120", "90"
    )
    parent = core.submit(oco, T0)
    assert (parent.limit_price, parent.type) == (D(120), OrderType.LIMIT)
    (stop_loss,) = core.legs(core.order(parent.id))
    assert (stop_loss.status, stop_loss.armed) == ("held", True)
    core.take_events()
    core.set_prices({"AAPL": D("89")}, T0)
    assert summary(core.take_events()) == [
        ("fill", "stop", "filled"),
        ("canceled", "limit", "canceled"),
    ]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (with_exits(ticket(), "bracket", "110", None), "bracket orders need take_profit"),
        (with_exits(ticket(), "bracket", "90", "95"), "take_profit.limit_price must be >"),
        (with_exits(ticket(), "oto", "110", "95"), "oto orders need exactly one"),
        (with_exits(ticket(), "oco", "110", "95"), "oco orders must be limit orders"),
        (with_exits(ticket(tif=TimeInForce.IOC), "bracket", "110", "95"), "must be day or gtc"),
        (with_exits(ticket(), "simple", "110", None), "need a bracket, oco or oto"),
        (with_exits(ticket(), "spread", None, None), "invalid order_class spread"),
    ],
)
def test_malformed_multi_leg_orders_are_unprocessable(order: OrderTicket, message: str) -> None:
    """A multi-leg order with a missing or inverted exit is 422 and creates nothing."""
    core = make_core()
    with pytest.raises(VenueRejection) as info:
        core.submit(order, T0)
    assert info.value.status == 422
    assert message in info.value.message
    assert core.orders() == []


def test_replace_makes_a_new_order_that_replaces_the_old() -> None:
    """PATCH gives a new order with ``replaces``; the old one ends replaced, naming it."""
    core = make_core()
    old = core.submit(ticket(order_type=OrderType.LIMIT, limit="90", cid="a"), T0)
    core.take_events()
    new = core.replace(old.id, OrderChanges(limit_price=D("95"), qty=D(4)), T0)
    assert (new.replaces, new.limit_price, new.qty) == (old.id, D(95), D(4))
    assert new.client_order_id not in ("a", "")
    replaced = core.order(old.id)
    assert (replaced.status, replaced.replaced_by) == ("replaced", new.id)
    assert [(e.event, e.order.id) for e in core.take_events()] == [
        ("replaced", old.id),
        ("new", new.id),
    ]
    assert core.account().buying_power == D(100000) - D(380)


def test_replace_refuses_final_orders_and_reused_client_ids() -> None:
    """A filled order cannot be replaced; a replacement's client_order_id must be new."""
    core = make_core()
    filled = core.submit(ticket(cid="f"), T0)
    resting = core.submit(ticket(order_type=OrderType.LIMIT, limit="90", cid="r"), T0)
    with pytest.raises(VenueRejection) as final:
        core.replace(filled.id, OrderChanges(qty=D(1)), T0)
    assert final.value.code == 42210000
    with pytest.raises(VenueRejection) as reused:
        core.replace(resting.id, OrderChanges(client_order_id="f"), T0)
    assert reused.value.code == 40010001


def test_partial_fills_take_fill_size_per_match() -> None:
    """With fill_size 4 a 10-share order fills 4, 4, 2 over three matches, averaging prices."""
    core = MatchingCore.create(
        [a for a in make_core().assets() if a.symbol in ("AAPL", "MSFT")],
        {"AAPL": D(100), "MSFT": D(400)},
        D(100000),
        fill_size=D(4),
    )
    order = core.submit(ticket(qty="10"), T0)
    core.set_prices({"AAPL": D(101)}, T0)
    core.set_prices({"AAPL": D(102)}, T0)
    events = core.take_events()
    assert [(e.event, e.qty, e.position_qty) for e in events[1:]] == [
        ("partial_fill", D(4), D(4)),
        ("partial_fill", D(4), D(8)),
        ("fill", D(2), D(10)),
    ]
    assert events[1].order.status == "partially_filled"
    final = core.order(order.id)
    assert final.filled_avg_price == D("100.8")


def test_ioc_keeps_its_partial_fill_and_fok_fills_nothing() -> None:
    """Under a fill size an ioc fills one chunk and the rest expires; a fok expires whole."""
    core = MatchingCore.create(
        [a for a in make_core().assets() if a.symbol == "AAPL"],
        {"AAPL": D(100)},
        D(100000),
        fill_size=D(3),
    )
    ioc = core.submit(ticket(qty="10", tif=TimeInForce.IOC), T0)
    fok = core.submit(ticket(qty="10", tif=TimeInForce.FOK), T0)
    assert (core.order(ioc.id).status, core.order(ioc.id).filled_qty) == ("expired", D(3))
    assert (core.order(fok.id).status, core.order(fok.id).filled_qty) == ("expired", D(0))


def test_fills_first_moves_each_fill_ahead_of_its_new() -> None:
    """reorder_events' ordering: an order's fill goes before its new, others keep their place."""
    core = make_core()
    core.submit(ticket(qty="1"), T0)
    core.submit(ticket(qty="1", order_type=OrderType.LIMIT, limit="90"), T0)
    core.submit(ticket(symbol="MSFT", qty="1"), T0)
    events = core.take_events()
    reordered = [(e.event, e.order.symbol) for e in fills_first(events)]
    assert reordered == [
        ("fill", "AAPL"),
        ("new", "AAPL"),
        ("new", "AAPL"),
        ("fill", "MSFT"),
        ("new", "MSFT"),
    ]


def test_an_exit_armed_by_a_price_move_matches_once_in_that_move() -> None:
    """Under a fill size an exit armed by a move fills one chunk in it, and the entry's
    partial fill leaves the exits held."""
    core = MatchingCore.create(
        [a for a in make_core().assets() if a.symbol == "AAPL"],
        {"AAPL": D(100)},
        D(100000),
        fill_size=D(2),
    )
    entry = core.submit(bracket(entry_limit="96", qty="4"), T0)
    core.set_prices({"AAPL": D("95.50")}, T0)
    assert [leg.armed for leg in core.legs(core.order(entry.id))] == [False, False]
    core.set_prices({"AAPL": D("94.90")}, T0)
    take_profit, stop_loss = core.legs(core.order(entry.id))
    assert (stop_loss.status, stop_loss.filled_qty) == ("partially_filled", D(2))
    assert take_profit.status == "canceled"


def test_a_replaced_take_profit_is_still_canceled_when_the_stop_fills() -> None:
    """Replacing a bracket's take-profit keeps it in the group: the stop's fill cancels it."""
    core = make_core()
    entry = core.submit(bracket(), T0)
    take_profit, _ = core.legs(core.order(entry.id))
    moved = core.replace(take_profit.id, OrderChanges(limit_price=D("115")), T0)
    assert core.order(entry.id).legs[0] == moved.id
    core.set_prices({"AAPL": D("94")}, T0)
    assert core.order(moved.id).status == "canceled"
    assert core.positions() == []


def test_a_take_profit_marketable_when_armed_leaves_its_stop_canceled() -> None:
    """The take-profit is already marketable when the entry fills: it fills as it arms, and
    the stop it cancels stays canceled (not put back to work from a stale copy)."""
    core = make_core()
    entry = core.submit(with_exits(ticket(tif=TimeInForce.GTC), "bracket", "99", "90"), T0)
    events = core.take_events()
    assert ("canceled", "stop", "canceled") in summary(events)
    take_profit, stop_loss = core.legs(core.order(entry.id))
    assert (take_profit.status, stop_loss.status) == ("filled", "canceled")
    assert not any(o.is_open for o in core.orders())
    assert core.positions() == []
