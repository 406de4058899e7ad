"""Continuous futures aliases resolved by the roll calendar."""

from __future__ import annotations

from datetime import date

from daemon.webhook.futures import resolve_alias, third_friday


def test_third_friday() -> None:
    """The expiry day of equity index futures."""
    assert third_friday(2026, 12) == date(2026, 12, 18)
    assert third_friday(2027, 3) == date(2027, 3, 19)
    assert third_friday(2026, 5) == date(2026, 5, 15)


def test_front_month_rolls_offset_days_before_expiry() -> None:
    """MNQ1! is December until 8 days before its expiry, then March of the next year."""
    assert resolve_alias("MNQ1!", date(2026, 12, 9)) == "MNQZ6"
    assert resolve_alias("MNQ1!", date(2026, 12, 10)) == "MNQH7"
    assert resolve_alias("mnq1!", date(2026, 12, 9), roll_offset_days=0) == "MNQZ6"
    assert resolve_alias("MNQ1!", date(2026, 12, 18), roll_offset_days=0) == "MNQH7"


def test_second_month_and_custom_cycles() -> None:
    """N! counts contracts forward; a root may have its own (e.g. monthly) cycle."""
    assert resolve_alias("ES2!", date(2026, 11, 23)) == "ESH7"
    monthly = {"CL": "FGHJKMNQUVXZ"}
    assert resolve_alias("CL1!", date(2026, 11, 23), cycles=monthly) == "CLZ6"
    assert resolve_alias("CL1!", date(2026, 12, 15), cycles=monthly) == "CLF7"


def test_other_symbols_are_unchanged() -> None:
    """Plain tickers, dated contracts and odd spellings pass through untouched."""
    for symbol in ("AAPL", "MNQZ6", "MNQ!", "MNQ0!", "BRK.B"):
        assert resolve_alias(symbol, date(2026, 11, 23)) == symbol
