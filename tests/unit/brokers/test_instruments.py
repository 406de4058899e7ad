"""The domain's instruments: an equity keeps a multiplier of 1, a future knows its contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from brokers.base import InstrumentKind, MonthCode, equity_instrument
from brokers.sim.core.contracts import PRODUCTS, FuturesContract


def test_month_codes_round_trip() -> None:
    """F is January, H March, Z December, and back."""
    assert [MonthCode.of_month(m) for m in (1, 3, 12)] == [MonthCode.F, MonthCode.H, MonthCode.Z]
    assert all(MonthCode.of_month(code.month) is code for code in MonthCode)


def test_an_mnq_contract_as_an_instrument() -> None:
    """MNQZ6: a future of $2 a point, ticks of 0.25 worth $0.50, whole contracts, its
    expiry on the third Friday and its margins per contract."""
    instrument = FuturesContract(PRODUCTS["MNQ"], 2026, 12).instrument()
    assert instrument.symbol == "MNQZ6"
    assert instrument.kind is InstrumentKind.FUTURE
    assert (instrument.multiplier, instrument.tick_size) == (Decimal(2), Decimal("0.25"))
    assert instrument.tick_value == Decimal("0.50")
    assert instrument.qty_increment == Decimal(1)
    assert instrument.contract is not None
    assert instrument.contract.name == "MNQZ6"
    assert instrument.contract.month_code is MonthCode.Z
    assert instrument.contract.expiration_date == date(2026, 12, 18)
    assert instrument.margin is not None
    assert (instrument.margin.initial, instrument.margin.maintenance) == (
        Decimal(2100),
        Decimal(1910),
    )
    assert instrument.value(Decimal("10.50"), Decimal(2)) == Decimal("42.00")
    assert instrument.is_on_grid(Decimal("21000.75"))
    assert not instrument.is_on_grid(Decimal("21000.10"))


def test_an_equity_keeps_a_multiplier_of_one() -> None:
    """An equity: multiplier 1, no contract, no margin."""
    instrument = equity_instrument("AAPL")
    assert instrument.kind is InstrumentKind.EQUITY
    assert instrument.multiplier == 1
    assert (instrument.contract, instrument.margin) == (None, None)
    assert instrument.value(Decimal("1.5"), Decimal(10)) == Decimal(15)
