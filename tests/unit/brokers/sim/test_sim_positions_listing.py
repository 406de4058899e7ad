"""Listing every position reads each one's shares held for orders in one pass."""

from __future__ import annotations

from decimal import Decimal

from brokers.base import OrderType, Side
from tests.unit.brokers.sim.core_builders import T0, make_core, ticket


def test_held_for_orders_of_every_symbol_equals_asking_symbol_by_symbol() -> None:
    """Long and short positions with closing and opening orders resting: the same figures."""
    core = make_core(AAPL="100.00", MSFT="400.00")
    core.submit(ticket("AAPL", Side.BUY, "10"), T0)
    core.submit(ticket("MSFT", Side.SELL, "4"), T0)
    resting = [
        ticket("AAPL", Side.SELL, "3", order_type=OrderType.LIMIT, limit="120.00"),
        ticket("AAPL", Side.SELL, "2", order_type=OrderType.LIMIT, limit="125.00"),
        ticket("AAPL", Side.BUY, "5", order_type=OrderType.LIMIT, limit="80.00"),
        ticket("MSFT", Side.BUY, "1", order_type=OrderType.LIMIT, limit="300.00"),
    ]
    for order in resting:
        core.submit(order, T0)
    by_symbol = core.held_for_orders_by_symbol()
    assert by_symbol == {"AAPL": Decimal(5), "MSFT": Decimal(1)}
    for symbol in ("AAPL", "MSFT"):
        assert by_symbol[symbol] == core.held_for_orders(symbol)
