from __future__ import annotations

from decimal import Decimal as D

from actors.reconciler.core_order_diff import LiveOrder, compare_orders
from brokers.base import OrderStatus
from tests.builders import request, venue_order


def live(cid: str, state: str = "accepted", filled: str = "0") -> LiveOrder:
    return LiveOrder(client_order_id=cid, symbol="AAPL", state=state, filled_qty=D(filled))


def test_orders_that_agree_are_not_listed() -> None:
    """Same id, open at both, same filled quantity: nothing to report."""
    venue = [venue_order(request("td-a-entry"), OrderStatus.NEW)]
    assert compare_orders([live("td-a-entry")], venue) == []


def test_an_order_final_at_the_venue_that_tradingd_still_follows() -> None:
    """A final event that never arrived shows as a difference with both views."""
    venue = [venue_order(request("td-a-entry"), OrderStatus.FILLED, "10")]
    [diff] = compare_orders([live("td-a-entry")], venue)
    assert (diff.tradingd_state, diff.venue_status) == ("accepted", "filled")
    assert (diff.tradingd_filled, diff.venue_filled) == (D(0), D(10))
    assert "still follows" in diff.note


def test_filled_quantities_that_differ_on_a_working_order() -> None:
    """Both open, the venue has filled more."""
    venue = [venue_order(request("td-a-entry"), OrderStatus.PARTIALLY_FILLED, "4")]
    [diff] = compare_orders([live("td-a-entry", "partially_filled", "2")], venue)
    assert diff.note == "filled quantities differ"


def test_open_venue_orders_nobody_follows_and_followed_orders_the_venue_lacks() -> None:
    """An open order outside tradingd, and an order the venue never shows."""
    venue = [venue_order(request("manual-1"), OrderStatus.NEW)]
    diffs = compare_orders([live("td-b-entry")], venue)
    assert [(d.client_order_id, d.tradingd_state, d.venue_status) for d in diffs] == [
        ("td-b-entry", "accepted", None),
        ("manual-1", None, "new"),
    ]
    assert "outside tradingd" in diffs[1].note
