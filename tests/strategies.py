"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from brokers.base import OrderEvent, OrderStatus

quantities = st.integers(min_value=1, max_value=1000).map(Decimal)
prices = st.integers(min_value=1, max_value=100_000).map(lambda cents: Decimal(cents) / 100)

# (event, status) pairs a venue may send for one order, in any order, any number of times.
venue_events = st.sampled_from(
    [
        (OrderEvent.NEW, OrderStatus.NEW),
        (OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED),
        (OrderEvent.FILL, OrderStatus.FILLED),
        (OrderEvent.CANCELED, OrderStatus.CANCELED),
        (OrderEvent.EXPIRED, OrderStatus.EXPIRED),
        (OrderEvent.PENDING_CANCEL, OrderStatus.PENDING_CANCEL),
        (OrderEvent.REJECTED, OrderStatus.REJECTED),
        (OrderEvent.SNAPSHOT, OrderStatus.PARTIALLY_FILLED),
    ]
)
