"""The matching core's order lifecycle past fills: expiry at the close, done for the day,
rejection after acceptance, legs carried in events, and the stream's pending states."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import msgspec

from brokers.base import OrderType, TimeInForce
from brokers.sim.alpaca.events import PendingStates, with_pending_states
from brokers.sim.alpaca.wire import event_json
from brokers.sim.core.orders import OrderChanges, SimEvent
from tests.unit.brokers.sim.core_builders import T0, make_core, ticket

D = Decimal
LATER = T0 + timedelta(hours=6)


def events(core_events: list[SimEvent]) -> list[tuple[str, str]]:
    return [(e.event, e.order.status) for e in core_events]


def test_close_expires_day_orders_and_keeps_gtc_orders_working() -> None:
    """At the close a resting day order expires (hold released); a gtc order works on."""
    core = make_core()
    day = core.submit(ticket(order_type=OrderType.LIMIT, limit="90.00"), T0)
    gtc = core.submit(ticket(order_type=OrderType.LIMIT, limit="91.00", tif=TimeInForce.GTC), T0)
    core.take_events()
    core.close_session(LATER)
    assert events(core.take_events()) == [("expired", "expired")]
    expired = core.order(day.id)
    assert (expired.expired_at, expired.updated_at, expired.hold) == (LATER, LATER, D(0))
    assert core.order(gtc.id).status == "new"
    assert core.account().buying_power == D(100000) - D("910.00")


def test_last_equity_is_the_equity_at_the_previous_close() -> None:
    """Starting cash until the first close; then the equity at each close, so a client that
    starts mid-day counts the day's P&L from that close, not from the account's opening."""
    core = make_core()
    assert core.last_equity == D(100000)
    core.submit(ticket(qty="10"), T0)  # 10 AAPL at 100
    core.set_prices({"AAPL": D("110.00")}, T0)
    assert core.last_equity == D(100000)  # a move within the day is not the close
    core.close_session(LATER)
    assert core.last_equity == D(100100)
    core.set_prices({"AAPL": D("90.00")}, LATER + timedelta(hours=18))
    assert core.account().equity == D(99900)
    assert core.last_equity == D(100100)
    core.close_session(LATER + timedelta(days=1))
    assert core.last_equity == D(99900)


def test_close_expires_a_day_brackets_open_legs() -> None:
    """A filled day bracket's working take-profit and held stop both expire at the close."""
    core = make_core()
    entry = msgspec.structs.replace(
        ticket(qty="2"), order_class="bracket", take_profit_limit=D(110), stop_loss_stop=D(95)
    )
    placed = core.submit(entry, T0)
    core.take_events()
    core.close_session(LATER)
    assert events(core.take_events()) == [("expired", "expired"), ("expired", "expired")]
    assert core.order(placed.id).status == "filled"
    assert [leg.status for leg in core.legs(core.order(placed.id))] == ["expired", "expired"]


def test_done_for_day_rests_gtc_orders_until_the_open() -> None:
    """With done_for_day a gtc order is done for the day at the close, cannot fill while
    the session is closed, and works again (and fills) at the open."""
    core = make_core()
    gtc = core.submit(ticket(order_type=OrderType.LIMIT, limit="90.00", tif=TimeInForce.GTC), T0)
    core.take_events()
    core.close_session(LATER, done_for_day=True)
    assert events(core.take_events()) == [("done_for_day", "done_for_day")]
    core.set_prices({"AAPL": D("89.00")}, LATER)
    assert core.order(gtc.id).status == "done_for_day"
    assert core.take_events() == []
    core.open_session(LATER + timedelta(hours=17))
    assert events(core.take_events()) == [("fill", "filled")]


def test_done_for_day_keeps_a_partial_fill_and_reopens_as_partially_filled() -> None:
    """A partially filled gtc order done for the day keeps its fill; at the open it is
    partially filled again."""
    core = make_core()
    core._fill_size = D(4)
    gtc = core.submit(ticket(order_type=OrderType.LIMIT, limit="100.00", tif=TimeInForce.GTC), T0)
    assert core.order(gtc.id).filled_qty == D(4)
    core.close_session(LATER, done_for_day=True)
    core.set_prices({"AAPL": D("101.00")}, LATER)
    core.open_session(LATER + timedelta(hours=17))
    reopened = core.order(gtc.id)
    assert (reopened.status, reopened.filled_qty) == ("partially_filled", D(4))


def test_reject_after_accept_answers_accepted_and_streams_rejected() -> None:
    """The order comes back accepted, is recorded as rejected, never fills, and holds
    nothing."""
    core = make_core()
    answer = core.submit(ticket(qty="3"), T0, reject_after_accept=True)
    assert answer.status == "accepted"
    assert events(core.take_events()) == [("rejected", "rejected")]
    rejected = core.order(answer.id)
    assert (rejected.failed_at, rejected.filled_qty) == (T0, D(0))
    assert core.positions() == []
    assert core.account().buying_power == D(100000)
    assert core.submissions() == {answer.client_order_id: 1}


def test_parent_events_carry_their_legs() -> None:
    """A bracket's events carry its legs as they stood, nested in the stream's order."""
    core = make_core()
    entry = msgspec.structs.replace(
        ticket(qty="2", order_type=OrderType.LIMIT, limit="90.00"),
        order_class="bracket",
        take_profit_limit=D(110),
        stop_loss_stop=D(85),
    )
    core.submit(entry, T0)
    (new,) = core.take_events()
    legs = event_json(new)["data"]["order"]["legs"]
    assert [(leg["type"], leg["status"]) for leg in legs] == [("limit", "held"), ("stop", "held")]
    core.set_prices({"AAPL": D("89.00")}, T0)
    fill, armed = core.take_events()
    assert [leg.status for leg in fill.legs] == ["held", "held"]
    assert event_json(armed)["data"]["order"]["legs"] is None  # a leg has no legs


def pending(names: PendingStates, batch: list[SimEvent]) -> list[tuple[str, str]]:
    counter = itertools.count()
    return events(with_pending_states(batch, names, lambda: f"p-{next(counter)}"))


def test_pending_states_precede_new_cancel_and_replace() -> None:
    """Each pending state, when asked for, comes just before the event it announces, with
    its own execution id; without them the events pass unchanged."""
    core = make_core()
    resting = core.submit(ticket(order_type=OrderType.LIMIT, limit="90.00"), T0)
    replacement = core.replace(resting.id, OrderChanges(limit_price=D("91.00")), T0)
    core.cancel(replacement.id, T0)
    batch = core.take_events()
    assert pending(PendingStates(), batch) == events(batch)
    assert pending(PendingStates(new=True, cancel=True, replace=True), batch) == [
        ("pending_new", "pending_new"),
        ("new", "new"),
        ("pending_replace", "pending_replace"),
        ("replaced", "replaced"),
        ("new", "new"),  # the replacement is not announced as pending_new
        ("pending_cancel", "pending_cancel"),
        ("canceled", "canceled"),
    ]
    announced = with_pending_states(batch, PendingStates(cancel=True), lambda: "p")
    assert announced[-2].order.canceled_at is None
    assert announced[-2].execution_id == "p"


def test_pending_new_precedes_a_rejection_and_sibling_cancels_stay_plain() -> None:
    """pending_new also announces an order that is then rejected; a cancel the venue made
    because a sibling filled gets no pending_cancel."""
    core = make_core()
    core.submit(ticket(), T0, reject_after_accept=True)
    bracket = msgspec.structs.replace(
        ticket(qty="2"), order_class="bracket", take_profit_limit=D(110), stop_loss_stop=D(95)
    )
    core.submit(bracket, T0)
    core.set_prices({"AAPL": D("111.00")}, T0)
    names = PendingStates(new=True, cancel=True)
    assert [name for name, _ in pending(names, core.take_events())] == [
        "pending_new",
        "rejected",
        "pending_new",
        "new",
        "fill",
        "new",
        "fill",
        "canceled",
    ]


def test_a_pending_cancel_can_still_fill_and_is_then_refused() -> None:
    """A working order pending cancel keeps working: a partial fill leaves it pending, a
    full fill ends it filled, and the late cancel is refused; no pending_cancel is added
    twice for an order the core already held pending."""
    core = make_core()
    core._fill_size = D(4)
    order = core.submit(ticket(order_type=OrderType.LIMIT, limit="90.00"), T0)
    core.take_events()
    core.request_cancel(order.id, T0)
    core.set_prices({"AAPL": D("89.00")}, T0)
    assert events(core.take_events()) == [
        ("pending_cancel", "pending_cancel"),
        ("partial_fill", "pending_cancel"),
    ]
    core.set_prices({"AAPL": D("88.00")}, T0)
    core.set_prices({"AAPL": D("87.00")}, T0)
    core.refuse_cancel(order.id, T0)
    assert events(core.take_events()) == [
        ("partial_fill", "pending_cancel"),
        ("fill", "filled"),
        ("order_cancel_rejected", "filled"),
    ]
    other = core.submit(ticket(order_type=OrderType.LIMIT, limit="80.00"), T0)
    core.request_cancel(other.id, T0)
    core.cancel(other.id, T0)
    batch = core.take_events()
    assert [name for name, _ in pending(PendingStates(cancel=True), batch)] == [
        "new",
        "pending_cancel",
        "canceled",
    ]
