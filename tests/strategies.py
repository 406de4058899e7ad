"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from decimal import Decimal

import attrs
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


# --- a trading session against the daemon: signals, pauses and venue faults -------------


@attrs.frozen
class SendSignal:
    """One signal; ``size`` is the qty of a buy or sell, the signed target of a target."""

    symbol: str
    action: str
    size: int | None = None


@attrs.frozen
class Settle:
    """Wait until every order is final before the next step (else signals queue up)."""


@attrs.frozen
class ArmFault:
    """Arm a venue fault: a lost answer or a refusal hits the next order submission (of any
    symbol); duplicated or reordered stream events last for the rest of the session."""

    fault: str


SessionStep = SendSignal | Settle | ArmFault

session_symbols = st.sampled_from(["AAPL", "MSFT"])
session_steps: st.SearchStrategy[SessionStep] = st.one_of(
    st.builds(
        SendSignal,
        symbol=session_symbols,
        action=st.sampled_from(["buy", "sell"]),
        size=st.integers(min_value=1, max_value=9),
    ),
    st.builds(SendSignal, symbol=session_symbols, action=st.just("close")),
    st.builds(
        SendSignal,
        symbol=session_symbols,
        action=st.just("target"),
        size=st.integers(min_value=-9, max_value=9),
    ),
    st.just(Settle()),
    st.builds(
        ArmFault,
        fault=st.sampled_from(
            ["lose_response", "reject_next", "duplicate_events", "reorder_events"]
        ),
    ),
)
