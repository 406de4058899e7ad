from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from actors.order_state import TrackedOrder
from brokers.base import OrderEvent, OrderStatus
from tests.builders import request, update
from tests.strategies import venue_events


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
