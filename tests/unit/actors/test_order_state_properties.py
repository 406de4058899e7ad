from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from actors.order_state import TrackedOrder
from brokers.base import OrderEvent, OrderStatus
from tests.builders import request, update
from tests.strategies import final_venue_events, venue_events


@given(
    qty=st.integers(min_value=1, max_value=50),
    steps=st.lists(st.tuples(venue_events, st.integers(min_value=0, max_value=60)), max_size=30),
)
def test_filled_qty_never_exceeds_order_nor_decreases(
    qty: int, steps: list[tuple[tuple[OrderEvent, OrderStatus], int]]
) -> None:
    """Over any event sequence, filled qty stays within [previous, order qty]."""
    order = TrackedOrder(request(qty=str(qty)))
    previous = Decimal(0)
    total_from_fills = Decimal(0)
    for (event, status), filled in steps:
        applied = order.apply(update(order.request, event, status, str(filled), "10"))
        total_from_fills += sum((f.qty for f in applied.fills), Decimal(0))
        assert previous <= order.filled_qty <= order.request.qty
        previous = order.filled_qty
    assert total_from_fills == order.filled_qty


@given(steps=st.lists(venue_events, max_size=20))
def test_final_state_absorbs_non_fill_events(steps: list[tuple[OrderEvent, OrderStatus]]) -> None:
    """Once final, an order's state never changes again (fills aside)."""
    order = TrackedOrder(request(qty="10"))
    order.apply(update(order.request, OrderEvent.CANCELED, OrderStatus.CANCELED))
    for event, status in steps:
        order.apply(update(order.request, event, status, "0"))
        assert order.state.value == "canceled"


@given(
    qty=st.integers(min_value=1, max_value=50),
    ending=final_venue_events,
    filled_at_end=st.integers(min_value=0, max_value=50),
    steps=st.lists(st.tuples(venue_events, st.integers(min_value=0, max_value=60)), max_size=30),
)
def test_final_states_absorb_everything_but_a_late_fill(
    qty: int,
    ending: tuple[OrderEvent, OrderStatus],
    filled_at_end: int,
    steps: list[tuple[tuple[OrderEvent, OrderStatus], int]],
) -> None:
    """After any final state, no event moves the state; only a venue fill count above ours
    (the documented late-fill edge) adds quantity, up to the order's size."""
    order = TrackedOrder(request(qty=str(qty)))
    event, status = ending
    filled = qty if status is OrderStatus.FILLED else min(filled_at_end, qty - 1)
    order.apply(update(order.request, event, status, str(filled), "10"))
    final = order.state
    assert final.is_final
    for (event, status), venue_filled in steps:
        before = order.filled_qty
        applied = order.apply(update(order.request, event, status, str(venue_filled), "10"))
        assert order.state is final
        if applied.fills:
            assert before < order.filled_qty == min(Decimal(venue_filled), order.request.qty)
        else:
            assert order.filled_qty == before
