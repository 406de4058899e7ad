from __future__ import annotations

from decimal import Decimal as D

from actors.messages import OrderSeen
from actors.reconciler.core import DriftWatch, compare_positions
from brokers.base import OrderEvent, OrderStatus, Position
from tests.builders import request, update


def test_drift_names_its_likely_cause() -> None:
    """Phantom, external and differing positions are each reported with a cause."""
    drifts = compare_positions({"A": D(5), "B": D(1)}, {"B": D(2), "C": D(3)})
    described = {d.symbol: d.describe() for d in drifts}
    assert "phantom" in described["A"]
    assert "differ" in described["B"]
    assert "external" in described["C"]
    assert compare_positions({"A": D(1)}, {"A": D(1)}) == []


def position(symbol: str, qty: str, price: str = "10") -> Position:
    return Position(
        symbol=symbol,
        qty=D(qty),
        avg_entry_price=D(price),
        market_value=D(qty) * D(price),
    )


def test_drift_is_reported_only_when_seen_twice_in_a_row() -> None:
    """A difference on one check may be a fill in flight; on two checks it is drift."""
    watch = DriftWatch(notional_tolerance=D(0))
    venue = {"AAPL": position("AAPL", "5")}
    prices = {"AAPL": D(10)}
    assert watch.judge({"AAPL": D(3)}, venue, prices) == []
    (drift,) = watch.judge({"AAPL": D(3)}, venue, prices)
    assert drift.venue_qty == D(5)
    assert watch.judge({"AAPL": D(3)}, venue, prices) == []  # reported once, not every check


def test_small_drift_within_the_notional_tolerance_is_ignored() -> None:
    """A difference worth less than the tolerance is not drift."""
    watch = DriftWatch(notional_tolerance=D(100))
    venue = {"AAPL": position("AAPL", "5")}
    for _ in range(2):
        assert watch.judge({"AAPL": D(4)}, venue, {"AAPL": D(10)}) == []


def test_a_final_order_brings_the_next_check_forward() -> None:
    """After a final order state the check comes after a short quiet spell, not the interval."""
    watch = DriftWatch(interval=60.0, after_final=2.0)
    watch.checked(now=0.0)
    assert watch.next_deadline() == 60.0
    filled = update(request("a"), OrderEvent.FILL, OrderStatus.FILLED, "10", "1")
    watch.on_update(OrderSeen.of(filled), now=5.0)
    assert watch.next_deadline() == 7.0
