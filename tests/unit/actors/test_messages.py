from __future__ import annotations

from decimal import Decimal

import pytest

from actors.messages import Action, BadSignal, parse_signal


def test_decimals_from_strings_and_numbers() -> None:
    """Quantities and prices decode exactly from JSON strings and numbers alike."""
    a = parse_signal(b'{"id":"s1","symbol":"AAPL","action":"buy","qty":"1.10"}')
    b = parse_signal(
        b'{"id":"s2","symbol":"AAPL","action":"buy","qty":1.10,"limit_price":0.1,'
        b'"order_type":"limit"}'
    )
    assert a.qty == Decimal("1.10")
    assert b.qty == Decimal("1.10")
    assert b.limit_price == Decimal("0.1")
    assert a.action is Action.BUY


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (b"not json", "not a JSON object"),
        (b'{"symbol":"AAPL","action":"buy","qty":1}', "`id`"),
        (b'{"id":"s","symbol":"AAPL","action":"short","qty":1}', "action"),
        (b'{"id":"s","symbol":"AAPL","action":"buy","qty":0}', "greater than 0"),
        (b'{"id":"s","symbol":"AAPL","action":"buy","qty":-3}', "greater than 0"),
        (b'{"id":"s","symbol":"AAPL","action":"buy","qty":"NaN"}', "finite"),
        (b'{"id":"s","symbol":"AAPL","action":"buy","qty":"Infinity"}', "finite"),
        (b'{"id":"s","symbol":"AAPL","action":"buy"}', "needs `qty`"),
        (b'{"id":"s","action":"close"}', "needs `symbol`"),
        (b'{"id":"s","symbol":"AAPL","action":"target"}', "target_qty"),
        (b'{"id":"s","symbol":"AAPL","action":"buy","qty":1,"order_type":"limit"}', "limit_price"),
        (b'{"id":"s","symbol":"AAPL","action":"buy","qty":1,"quantity":2}', "unknown field"),
        (b'{"id":"' + b"x" * 129 + b'","symbol":"AAPL","action":"close"}', "length"),
        (b'{"id":"s","action":"rebalance","targets":{"A":0.7,"B":0.6}}', "at most 1"),
    ],
)
def test_bad_signals_get_a_readable_reason(line: bytes, fragment: str) -> None:
    """Every kind of bad input raises BadSignal naming what is wrong."""
    with pytest.raises(BadSignal, match="(?i)" + fragment.replace("`", ".").replace("(", ".")):
        parse_signal(line)


def test_bad_signal_keeps_the_id_when_readable() -> None:
    """A rejection can be paired with its signal when the id itself was valid."""
    with pytest.raises(BadSignal) as caught:
        parse_signal(b'{"id":"keep-me","symbol":"AAPL","action":"buy","qty":0}')
    assert caught.value.signal_id == "keep-me"


def test_negative_target_is_a_short_target() -> None:
    """A target may be negative (a short position); zero means flat."""
    signal = parse_signal(b'{"id":"t","symbol":"ES","action":"target","target_qty":-3}')
    assert signal.target_qty == Decimal(-3)
