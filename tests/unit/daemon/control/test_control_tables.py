"""Tables for people: long decimals rounded for the eye, everything else as sent."""

from __future__ import annotations

from typing import Any

from daemon.control.client import render_table


def test_long_decimals_are_rounded_in_tables_only() -> None:
    """An average with 28 digits shows 9 places; short numbers and text stay as they are."""
    rows: list[dict[str, Any]] = [
        {"symbol": "AAPL", "entry_avg": "105.3333333333333333333333333", "qty": "0.5"},
        {"symbol": "MSFT", "entry_avg": "-0.00000000004", "qty": "12"},
        {"symbol": "x.1234567890123", "entry_avg": None, "qty": "100.0000000000000000001"},
    ]
    table = render_table(rows, ("symbol", "entry_avg", "qty"))
    assert table.splitlines() == [
        "SYMBOL               ENTRY_AVG  QTY",
        "AAPL             105.333333333  0.5",
        "MSFT                         0   12",
        "x.1234567890123              -  100",
    ]
