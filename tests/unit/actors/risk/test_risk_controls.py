from __future__ import annotations

from decimal import Decimal as D

import pytest

from actors.risk.core_controls import OrderFlow, check_collar, check_order_size, check_qty
from actors.risk.limits import RiskLimits
from brokers.base import Asset, OrderType, Side
from tests.builders import request

WHOLE = Asset(symbol="AAPL", tradable=True, fractionable=False)
FRACTIONAL = Asset(
    symbol="AAPL",
    tradable=True,
    fractionable=True,
    min_order_size=D("0.01"),
    min_trade_increment=D("0.01"),
)


@pytest.mark.parametrize(
    ("qty", "asset", "code"),
    [
        ("0", None, "bad_qty"),
        ("-3", None, "bad_qty"),
        ("NaN", None, "bad_qty"),
        ("Infinity", None, "bad_qty"),
        ("0.5", WHOLE, "fraction_not_allowed"),
        ("0.001", FRACTIONAL, "below_min_size"),
        ("0.015", FRACTIONAL, "qty_increment"),
    ],
)
def test_quantity_rules(qty: str, asset: Asset | None, code: str) -> None:
    """Zero, negative, non-finite, fractional-on-whole-share and off-increment qtys are refused."""
    refusal = check_qty(D(qty), asset)
    assert refusal is not None
    assert refusal.code == code


def test_valid_quantities_pass() -> None:
    """Whole shares of a whole-share asset, and increments of a fractional one, pass."""
    assert check_qty(D(3), WHOLE) is None
    assert check_qty(D("0.25"), FRACTIONAL) is None


def test_order_size_caps() -> None:
    """Max order qty and notional are enforced separately."""
    limits = RiskLimits(max_order_qty=D(100), max_order_notional=D(1000))
    too_many = check_order_size(D(101), D(10), limits)
    too_big = check_order_size(D(10), D(1001), limits)
    assert too_many is not None
    assert too_many.code == "max_order_qty"
    assert too_big is not None
    assert too_big.code == "max_order_notional"
    assert check_order_size(D(100), D(1000), limits) is None


def test_price_collar_refuses_limits_through_the_market() -> None:
    """A buy limit far above (or a sell limit far below) the last price is refused; a passive
    limit far from the market is not."""
    limits = RiskLimits(price_collar=D("0.10"))
    refused = [
        check_collar(request("a", order_type=OrderType.LIMIT, limit_price="111"), D(100), limits),
        check_collar(
            request("b", side=Side.SELL, order_type=OrderType.LIMIT, limit_price="89"),
            D(100),
            limits,
        ),
    ]
    assert [r.code if r else None for r in refused] == ["price_collar", "price_collar"]
    near = request("c", order_type=OrderType.LIMIT, limit_price="109")
    passive = request("d", order_type=OrderType.LIMIT, limit_price="50")
    assert check_collar(near, D(100), limits) is None
    assert check_collar(passive, D(100), limits) is None


def test_duplicate_order_window() -> None:
    """Same symbol, side and qty within the window is refused; other sides or later ones pass."""
    flow = OrderFlow(RiskLimits(duplicate_window=2.0))
    first = request("a", qty="5")
    flow.record(first, 10.0)
    again = flow.check(request("b", qty="5"), 11.0)
    assert again is not None
    assert again.code == "duplicate_order"
    assert flow.check(request("c", qty="5", side=Side.SELL), 11.0) is None
    assert flow.check(request("d", qty="5"), 12.0) is None


def test_an_order_that_never_traded_leaves_the_duplicate_window() -> None:
    """A refused (or never sent) order frees its window at once, so the trader's resend is
    not a duplicate; an order that traded, or a later identical approval, keeps it."""
    flow = OrderFlow(RiskLimits(duplicate_window=2.0))
    flow.record(request("refused", qty="3"), 10.0)
    flow.ended("refused", traded=False)
    assert flow.check(request("resend", qty="3"), 10.5) is None
    flow.record(request("resend", qty="3"), 10.5)
    flow.ended("resend", traded=True)
    refusal = flow.check(request("third", qty="3"), 11.0)
    assert refusal is not None
    assert refusal.code == "duplicate_order"
    flow.record(request("old", qty="4"), 20.0)
    flow.record(request("new", qty="4"), 23.0)  # the window had passed
    flow.ended("old", traded=False)
    refusal = flow.check(request("again", qty="4"), 23.5)
    assert refusal is not None
    assert refusal.code == "duplicate_order"
