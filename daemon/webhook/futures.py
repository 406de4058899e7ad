"""Continuous futures aliases: ``MNQ1!`` is the front month, ``MNQ2!`` the one after.

TradingView charts continuous contracts; venues trade dated ones. The front month is the
first contract of the root's cycle whose roll date (its expiry, the third Friday of the
month, minus ``roll_offset_days``) is still ahead: volume moves to the next contract about a
week before expiry, and so do we. Contract symbols are written root + month code + the
year's last digit (``MNQZ6``), as Tradovate names them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December
QUARTERLY = "HMUZ"  # equity index futures: March, June, September, December

_ALIAS = re.compile(r"^(?P<root>[A-Z0-9]{1,8}?)(?P<nth>[1-9])!$")


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def resolve_alias(
    symbol: str,
    today: date,
    *,
    roll_offset_days: int = 8,
    cycles: Mapping[str, str] | None = None,
) -> str:
    """The dated contract for a continuous alias; any other symbol is returned unchanged."""
    match = _ALIAS.match(symbol.upper())
    if match is None:
        return symbol
    root, nth = match["root"], int(match["nth"])
    cycle = (cycles or {}).get(root, QUARTERLY)
    months = sorted(MONTH_CODES.index(code) + 1 for code in cycle)
    year = today.year
    found = 0
    while True:  # config allows only non-empty cycles of month codes: this ends
        for month in months:
            if third_friday(year, month) - timedelta(days=roll_offset_days) > today:
                found += 1
                if found == nth:
                    return f"{root}{MONTH_CODES[month - 1]}{year % 10}"
        year += 1
