"""Which orders are protective: they only bring a position toward flat."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actors.executor.effects import Submit, reduces
from brokers.base import OrderRequest, RequestPriority, Side


def order(side: Side, qty: str) -> OrderRequest:
    return OrderRequest(client_order_id="c1", symbol="AAPL", side=side, qty=Decimal(qty))


@pytest.mark.parametrize(
    ("side", "qty", "position", "expected"),
    [
        (Side.SELL, "10", "10", True),  # a close of a long
        (Side.SELL, "4", "10", True),  # part of it
        (Side.BUY, "3", "-3", True),  # a short covered
        (Side.SELL, "11", "10", False),  # past flat: it opens a short
        (Side.BUY, "1", "10", False),  # adds to a long
        (Side.SELL, "1", "0", False),  # from flat it opens
    ],
)
def test_reduces_only_toward_flat(side: Side, qty: str, position: str, expected: bool) -> None:
    """An order is protective only when it cannot add to the position or cross zero."""
    assert reduces(order(side, qty), Decimal(position)) is expected
    assert Submit.of(order(side, qty), Decimal(position)).protective is expected


def test_a_protective_order_goes_first_in_the_venues_request_budget() -> None:
    """A close asks the budget as PROTECTIVE; an entry as a new order."""
    assert Submit.of(order(Side.SELL, "10"), Decimal(10)).priority is RequestPriority.PROTECTIVE
    assert Submit.of(order(Side.BUY, "1"), Decimal(10)).priority is RequestPriority.NEW_ORDER
