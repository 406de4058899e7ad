"""A drift check never calls drift what fills in flight explain, and still calls the rest."""

from __future__ import annotations

from decimal import Decimal as D

from actors.reconciler.core import IN_FLIGHT_CHECKS, DriftWatch
from actors.reconciler.core_in_flight import InFlight, WorkingOrder, in_flight
from brokers.base import Position, Side

PRICES = {"AAPL": D(10)}


def venue(qty: str) -> dict[str, Position]:
    return {"AAPL": Position(symbol="AAPL", qty=D(qty), avg_entry_price=D(10))}


def working(cid: str, side: Side, unfilled: str, symbol: str = "AAPL") -> WorkingOrder:
    return WorkingOrder(client_order_id=cid, symbol=symbol, side=side, unfilled=D(unfilled))


def test_fills_in_flight_one_after_another_are_never_drift() -> None:
    """Ours 10, the venue at 13 on every check, each time explained by a different working
    buy (a position swinging under a steady flow): in flight, never drift."""
    watch = DriftWatch(notional_tolerance=D(0))
    for n in range(4):
        flights = in_flight({"AAPL": D(10)}, {"AAPL": D(10)}, [working(f"b{n}", Side.BUY, "5")])
        assert watch.judge({"AAPL": D(10)}, venue("13"), PRICES, flights) == []
        assert watch.in_flight("AAPL")
    assert watch.reported == {}


def test_a_fill_one_order_keeps_explaining_is_a_missed_fill() -> None:
    """The same working buy explains the same difference on two checks: its fill went
    missing (the stream dropped it), so that is drift."""
    watch = DriftWatch(notional_tolerance=D(0))
    flights = in_flight({"AAPL": D(0)}, {"AAPL": D(0)}, [working("b", Side.BUY, "10")])
    assert watch.judge({"AAPL": D(0)}, venue("10"), PRICES, flights) == []
    (drift,) = watch.judge({"AAPL": D(0)}, venue("10"), PRICES, flights)
    assert (drift.journal_qty, drift.venue_qty) == (D(0), D(10))
    assert not watch.in_flight("AAPL")


def test_a_difference_past_what_the_working_orders_can_fill_is_still_drift() -> None:
    """Ours 10 with a buy of 5 working cannot explain the venue at 16 (nor at 9)."""
    for seen in ("16", "9"):
        watch = DriftWatch(notional_tolerance=D(0))
        flights = in_flight({"AAPL": D(10)}, {"AAPL": D(10)}, [working("b", Side.BUY, "5")])
        assert watch.judge({"AAPL": D(10)}, venue(seen), PRICES, flights) == []
        (drift,) = watch.judge({"AAPL": D(10)}, venue(seen), PRICES, flights)
        assert drift.venue_qty == D(seen)


def test_without_working_orders_a_difference_is_judged_as_before() -> None:
    """No order working and no fill landing during the read: ranges are exact."""
    flights = in_flight({"AAPL": D(10)}, {"AAPL": D(10)}, [])
    assert flights == {"AAPL": InFlight(low=D(10), high=D(10))}
    watch = DriftWatch(notional_tolerance=D(0))
    watch.judge({"AAPL": D(10)}, venue("12"), PRICES, flights)
    assert [d.venue_qty for d in watch.judge({"AAPL": D(10)}, venue("12"), PRICES, flights)] == [
        D(12)
    ]


def test_a_fill_landing_while_the_venue_answered_is_compared_at_either_point() -> None:
    """The sell of 4 finished during the read (ours 10 -> 6, no longer working after): the
    venue's 10 (before it) and 6 (after it) are both in flight."""
    flights = in_flight({"AAPL": D(10)}, {"AAPL": D(6)}, [working("s", Side.SELL, "4")])
    assert flights["AAPL"] == InFlight(low=D(2), high=D(10), orders=frozenset({"s"}))
    assert flights["AAPL"].explains(D(10))
    assert flights["AAPL"].explains(D(6))
    assert not flights["AAPL"].explains(D(11))


def test_one_order_seen_before_and_after_the_read_counts_once() -> None:
    """An order in both lists counts at the most it had left, not twice; orders on other
    symbols widen only their own."""
    orders = [
        working("b", Side.BUY, "5"),
        working("b", Side.BUY, "2"),
        working("c", Side.BUY, "1"),
        working("m", Side.SELL, "3", symbol="MSFT"),
    ]
    flights = in_flight({"AAPL": D(0)}, {"AAPL": D(3)}, orders)
    assert flights["AAPL"] == InFlight(low=D(0), high=D(9), orders=frozenset({"b", "c"}))
    assert flights["MSFT"] == InFlight(low=D(-3), high=D(0), orders=frozenset({"m"}))


def test_a_difference_working_orders_explain_check_after_check_is_drift_in_the_end() -> None:
    """A fill lost for good (or a trade outside tradingd) on a symbol with a steady flow: each
    check a new working buy could explain it, but the same difference seen on
    ``IN_FLIGHT_CHECKS`` checks in a row is no fill in flight: it is reported."""
    watch = DriftWatch(notional_tolerance=D(0))
    found = []
    for n in range(IN_FLIGHT_CHECKS):
        flights = in_flight({"AAPL": D(10)}, {"AAPL": D(10)}, [working(f"b{n}", Side.BUY, "5")])
        found.append(watch.judge({"AAPL": D(10)}, venue("13"), PRICES, flights))
    assert found[:-1] == [[]] * (IN_FLIGHT_CHECKS - 1)
    assert [(d.journal_qty, d.venue_qty) for d in found[-1]] == [(D(10), D(13))]


def test_a_difference_that_changes_starts_its_count_again() -> None:
    """Fills in flight that differ from check to check never add up to a report."""
    watch = DriftWatch(notional_tolerance=D(0))
    for n in range(3 * IN_FLIGHT_CHECKS):
        flights = in_flight({"AAPL": D(10)}, {"AAPL": D(10)}, [working(f"b{n}", Side.BUY, "5")])
        seen = "13" if n % IN_FLIGHT_CHECKS else "12"
        assert watch.judge({"AAPL": D(10)}, venue(seen), PRICES, flights) == []
