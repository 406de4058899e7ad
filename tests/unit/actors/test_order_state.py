from __future__ import annotations

from decimal import Decimal

from actors.order_state import State, TrackedOrder
from brokers.base import OrderEvent, OrderStatus
from tests.builders import request, update


def test_fill_counted_once_when_event_repeats() -> None:
    """A duplicated fill event adds its quantity once."""
    order = TrackedOrder(request(qty="10"))
    fill = update(
        order.request, OrderEvent.FILL, OrderStatus.FILLED, "10", "100", ("e1", "10", "100")
    )
    first = order.apply(fill)
    second = order.apply(fill)
    assert [f.qty for f in first.fills] == [Decimal(10)]
    assert second.fills == ()
    assert order.state is State.FILLED
    assert order.filled_qty == Decimal(10)


def test_fill_before_new_then_late_new_is_absorbed() -> None:
    """A fill delivered before its `new` ends filled; the late `new` changes nothing."""
    order = TrackedOrder(request(qty="5"))
    order.move(State.SENDING)
    order.apply(
        update(order.request, OrderEvent.FILL, OrderStatus.FILLED, "5", "20", ("e1", "5", "20"))
    )
    late = order.apply(update(order.request, OrderEvent.NEW, OrderStatus.NEW))
    assert order.state is State.FILLED
    assert late.fills == ()
    assert not late.needs_lookup


def test_snapshot_folding_two_fills_derives_exact_average() -> None:
    """A REST snapshot covering fills we never saw adds them at their exact average price."""
    order = TrackedOrder(request(qty="10"))
    order.apply(
        update(
            order.request,
            OrderEvent.PARTIAL_FILL,
            OrderStatus.PARTIALLY_FILLED,
            "4",
            "10",
            ("e1", "4", "10"),
        )
    )
    applied = order.apply(
        update(order.request, OrderEvent.SNAPSHOT, OrderStatus.FILLED, "10", "11.2")
    )
    assert [(f.qty, f.price) for f in applied.fills] == [(Decimal(6), Decimal(12))]
    assert order.avg_fill_price == Decimal("11.2")


def test_stale_snapshot_never_lowers_filled_qty() -> None:
    """An older snapshot with less filled leaves the count where it is."""
    order = TrackedOrder(request(qty="10"))
    order.apply(
        update(order.request, OrderEvent.FILL, OrderStatus.FILLED, "10", "5", ("e1", "10", "5"))
    )
    order.apply(update(order.request, OrderEvent.SNAPSHOT, OrderStatus.PARTIALLY_FILLED, "3", "5"))
    assert order.filled_qty == Decimal(10)
    assert order.state is State.FILLED


def test_fill_after_cancel_requested_is_kept() -> None:
    """A fill landing after a cancel was requested counts, and the order ends filled."""
    order = TrackedOrder(request(qty="2"))
    order.apply(update(order.request, OrderEvent.NEW, OrderStatus.NEW))
    assert order.move(State.PENDING_CANCEL)
    order.apply(
        update(order.request, OrderEvent.FILL, OrderStatus.FILLED, "2", "7", ("e1", "2", "7"))
    )
    assert order.state is State.FILLED


def test_late_fill_after_cancel_is_counted() -> None:
    """The documented edge: a venue reporting more fill after `canceled` is believed."""
    order = TrackedOrder(request(qty="10"))
    order.apply(update(order.request, OrderEvent.CANCELED, OrderStatus.CANCELED, "0"))
    late = order.apply(update(order.request, OrderEvent.SNAPSHOT, OrderStatus.CANCELED, "3", "9"))
    assert order.state is State.CANCELED
    assert [f.qty for f in late.fills] == [Decimal(3)]


def test_rejected_then_venue_says_filled_asks_for_lookup() -> None:
    """A final state contradicted by the venue is never overwritten blindly: look it up."""
    order = TrackedOrder(request(qty="1"))
    order.move(State.SENDING)
    order.move(State.REJECTED, "test")
    applied = order.apply(update(order.request, OrderEvent.CANCELED, OrderStatus.CANCELED))
    assert applied.needs_lookup
    assert order.state is State.REJECTED


def test_update_for_another_order_is_flagged() -> None:
    """An update carrying another client id is not applied."""
    order = TrackedOrder(request(cid="a"))
    other = update(
        request(cid="b"), OrderEvent.FILL, OrderStatus.FILLED, "10", "1", ("e", "10", "1")
    )
    applied = order.apply(other)
    assert applied.needs_lookup
    assert applied.fills == ()
    assert order.filled_qty == 0


def test_done_for_day_after_a_partial_fill_stays_partially_filled() -> None:
    """A gtc order done for the day after a partial fill is still partially filled, with no
    lookup asked for; a done_for_day before any fill is simply accepted."""
    order = TrackedOrder(request(qty="10"))
    order.apply(
        update(
            order.request,
            OrderEvent.PARTIAL_FILL,
            OrderStatus.PARTIALLY_FILLED,
            "4",
            "10",
            ("e1", "4", "10"),
        )
    )
    resting = order.apply(
        update(order.request, OrderEvent.DONE_FOR_DAY, OrderStatus.DONE_FOR_DAY, "4", "10")
    )
    assert (order.state, resting.needs_lookup) == (State.PARTIALLY_FILLED, False)
    untouched = TrackedOrder(request(qty="10"))
    untouched.apply(update(untouched.request, OrderEvent.DONE_FOR_DAY, OrderStatus.DONE_FOR_DAY))
    assert untouched.state is State.ACCEPTED
