"""Bounds on the numbers a signal may carry, and short quotes of what was sent.

Decimal arithmetic on an outside number of any size can raise: ``1e999999 % 1`` has no
answer within decimal's 28 digits (``DivisionImpossible``), and ``f"{x:.2f}"`` of
``1e500000`` is half a megabyte of reason. A signal's numbers are therefore bounded where
it is parsed, so that every product and quotient sizing, risk and the executors compute on
them fits the decimal context; the places that compute still trap what slips through
(``DECIMAL_TRAP_CODE``). Pure: no I/O.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

# Shares or contracts, either sign: far above any real order, far below decimal's limits.
MAX_QUANTITY = Decimal(10**9)
# Per share or contract, for limit, stop and exit prices.
MAX_PRICE = Decimal(10**9)
# Alpaca's finest fraction of a share (nine decimals); no venue quotes finer prices.
MAX_DECIMAL_PLACES = 9
# A rebalance weight is at most 1; 1/3 written out to 18 places is a weight a script sends.
MAX_WEIGHT = Decimal(1)
MAX_WEIGHT_DECIMAL_PLACES = 18

# The stable reason code of a computation whose decimal arithmetic raised.
DECIMAL_TRAP_CODE = "bad_number"

# How much of a value a reason quotes, and how long any reason may be.
MAX_QUOTED_CHARS = 40
MAX_REASON_CHARS = 300


# Decimal's default context, pinned: whatever else in the process changes the thread's
# context, a NaN or an overflow in these computations raises rather than flowing on.
_TRAPPING = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


@contextmanager
def trapping_decimals() -> Iterator[None]:
    """Decimal arithmetic in the block raises ``DecimalException`` on anything invalid:
    the caller turns it into a refusal coded ``DECIMAL_TRAP_CODE``."""
    with localcontext(_TRAPPING):
        yield


def quote(value: object) -> str:
    """``str(value)``, cut short: a reason names the value without repeating all of it."""
    text = str(value)
    if len(text) <= MAX_QUOTED_CHARS:
        return text
    return f"{text[:MAX_QUOTED_CHARS]}… ({len(text)} chars)"


# An exception's message can hold a whole input line (or worse): the journal keeps a failure's
# message and line bounded (a quarantined signal's).
ERROR_CHARS = 500
RAW_CHARS = 16384


def bounded_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded_reason(reason: str) -> str:
    """A reason cut to ``MAX_REASON_CHARS``, however much of its input it quoted."""
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    return reason[: MAX_REASON_CHARS - 1] + "…"


def decimal_failure(exc: DecimalException) -> str:
    """Which decimal condition was raised, by name (``str`` of one is a list of classes)."""
    conditions = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
    names = [c.__name__ for c in conditions if isinstance(c, type)]
    return ", ".join(names) or type(exc).__name__


def bounded(name: str, value: Decimal, *, limit: Decimal, places: int) -> Decimal:
    """``value`` exactly, written canonically (no trailing zeros, no exponent), or a
    ValueError naming the bound it breaks. ``1.50`` and ``0E-999999`` are fine numbers:
    only the digits that carry value count."""
    if not value.is_finite():
        raise ValueError(f"`{name}` must be a finite number, got {quote(value)}")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: checked above
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
        exponent += 1
    digits = digits[:significant]
    if digits == (0,):
        return Decimal(0)
    if -exponent > places:
        raise ValueError(f"`{name}` has more than {places} decimal places: {quote(value)}")
    # Checked on the digit count first: writing out 1e999999999 would take a gigabyte.
    if significant + exponent > len(str(int(limit))):
        raise ValueError(f"`{name}` must be at most {limit} in size, got {quote(value)}")
    exact = Decimal((sign, digits + (0,) * max(exponent, 0), min(exponent, 0)))
    if abs(exact) > limit:
        raise ValueError(f"`{name}` must be at most {limit} in size, got {quote(value)}")
    return exact
