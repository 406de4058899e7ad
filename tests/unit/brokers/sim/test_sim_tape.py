"""Minute bars built from the venue's trades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.sim.alpaca.marketdata import DataSession
from brokers.sim.core.tape import BarBuilder, MinuteBar, PricePrint

D = Decimal
MINUTE = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def trade(n: int, symbol: str, price: str, seconds: float) -> PricePrint:
    return PricePrint(n, symbol, D(price), MINUTE + timedelta(seconds=seconds))


def test_a_minutes_trades_make_one_bar_once_the_minute_is_over() -> None:
    """Open, high, low, close, volume, count and vwap of a minute's trades, given only once
    the minute has ended; the next minute's trade waits for its own bar."""
    bars = BarBuilder()
    for t in (trade(1, "AAPL", "100", 1), trade(2, "AAPL", "102", 20), trade(3, "AAPL", "99", 40)):
        bars.add(t)
    bars.add(trade(4, "AAPL", "101", 59.5))
    bars.add(trade(5, "AAPL", "105", 60))
    assert bars.take_complete(MINUTE + timedelta(seconds=59.9)) == []
    (bar,) = bars.take_complete(MINUTE + timedelta(seconds=60))
    assert bar == MinuteBar("AAPL", MINUTE, D(100), D(102), D(99), D(101), 400, 4, D("100.5"))
    assert bars.take_complete(MINUTE + timedelta(seconds=61)) == []
    (later,) = bars.take_complete(MINUTE + timedelta(minutes=5))
    assert (later.start, later.open, later.close, later.trades) == (
        MINUTE + timedelta(minutes=1),
        D(105),
        D(105),
        1,
    )


def test_bars_come_by_minute_then_symbol_and_quiet_minutes_have_none() -> None:
    """Several symbols and minutes come out in order; a minute without trades has no bar."""
    bars = BarBuilder()
    bars.add(trade(1, "MSFT", "400", 130))
    bars.add(trade(2, "AAPL", "100", 5))
    bars.add(trade(3, "MSFT", "401", 6))
    done = bars.take_complete(MINUTE + timedelta(minutes=10))
    assert [(b.start.minute, b.symbol) for b in done] == [(0, "AAPL"), (0, "MSFT"), (2, "MSFT")]


def test_vwap_is_rounded_to_four_places() -> None:
    """A vwap that does not divide evenly is given to 1/10000."""
    bars = BarBuilder()
    for n, price in enumerate(("100", "101", "101")):
        bars.add(trade(n, "AAPL", price, n))
    (bar,) = bars.take_complete(MINUTE + timedelta(minutes=1))
    assert bar.vwap == D("100.6667")


def test_bar_message_goes_only_to_bar_subscribers() -> None:
    """A bar is sent as Alpaca's T:"b" message to connections subscribed to the symbol's
    bars, and to nobody else."""
    session = DataSession(lambda key, secret: True)
    session.receive('{"action":"auth","key":"k","secret":"s"}')
    session.receive('{"action":"subscribe","trades":["AAPL"],"bars":["MSFT"]}')
    bar = MinuteBar("MSFT", MINUTE, D(400), D(401), D(399), D("400.5"), 300, 3, D("400.1"))
    other = MinuteBar("AAPL", MINUTE, D(1), D(1), D(1), D(1), 100, 1, D(1))
    assert session.prints([bar, other]) == [
        {"T": "b", "S": "MSFT", "o": D(400), "h": D(401), "l": D(399), "c": D("400.5")}
        | {"v": 300, "t": MINUTE, "n": 3, "vw": D("400.1")}
    ]
    assert session.encode(session.prints([bar])) == (
        '[{"T":"b","S":"MSFT","o":400,"h":401,"l":399,"c":400.5,"v":300,'
        '"t":"2026-01-05T15:00:00Z","n":3,"vw":400.1}]'
    )
