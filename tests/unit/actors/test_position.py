from __future__ import annotations

from decimal import Decimal as D

from actors.position import ConfirmedPosition
from brokers.base import Side


def test_average_price_moves_when_adding() -> None:
    """Buying more at a new price moves the average entry price."""
    position = ConfirmedPosition()
    position.apply_fill(Side.BUY, D(10), D(100))
    position.apply_fill(Side.BUY, D(10), D(110))
    assert (position.qty, position.avg_entry_price) == (D(20), D(105))


def test_realized_pnl_on_partial_close_of_a_short() -> None:
    """Buying back part of a short realizes P&L and keeps the average."""
    position = ConfirmedPosition()
    position.apply_fill(Side.SELL, D(3), D(50))
    position.apply_fill(Side.BUY, D(1), D(45))
    assert position.qty == D(-2)
    assert position.avg_entry_price == D(50)
    assert position.realized_pnl == D(5)


def test_flip_through_zero_opens_remainder_at_fill_price() -> None:
    """Selling more than the long realizes the long and opens a short at the fill price."""
    position = ConfirmedPosition()
    position.apply_fill(Side.BUY, D(2), D(10))
    position.apply_fill(Side.SELL, D(5), D(12))
    assert position.qty == D(-3)
    assert position.avg_entry_price == D(12)
    assert position.realized_pnl == D(4)


def test_close_order_of_a_short_is_a_buy() -> None:
    """Closing a short buys back exactly its size (incident 004 #1)."""
    position = ConfirmedPosition(qty=D(-3), avg_entry_price=D(1))
    assert position.close_order() == (Side.BUY, D(3))
    assert ConfirmedPosition().close_order() is None
