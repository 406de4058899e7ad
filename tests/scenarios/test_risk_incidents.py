"""Risk bugs from incident reports 000, 002 and 003, replayed against RiskGuard's core."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec
import pytest

from actors.messages import Approved, BadSignal, Denied, parse_signal
from actors.prices import PriceBook
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from brokers.base import Account, Asset, OrderEvent, OrderStatus, Side
from tests.builders import T0, request, update

SECTORS = RiskLimits(
    market_slippage=D(0),
    duplicate_window=0,
    sectors={"AAPL": "tech", "MSFT": "tech", "XOM": "energy"},
    sector_caps={"tech": D("0.3"), "energy": D("0.3")},
)


def guard(limits: RiskLimits, cash: str = "100000", **assets: Asset) -> RiskGuardCore:
    prices = PriceBook()
    for symbol, price in (("AAPL", "190"), ("MSFT", "410"), ("XOM", "100"), ("TECL", "80")):
        prices.update(symbol, D(price), now=0.0)
    core = RiskGuardCore(limits, prices, assets)
    core.set_account(Account(cash=D(cash), buying_power=D(cash), equity=D(cash)), 0.0, T0)
    return core


def test_002_sector_cap_allows_the_first_position_in_an_empty_portfolio() -> None:
    """With nothing held, the first tech buy is 100% of the book and still allowed (002
    SKIP_SECTOR_CAP); the next tech buy, past the cap, is denied with `sector_cap`."""
    core = guard(SECTORS)
    first = request("t1", symbol="AAPL", qty="10")
    assert isinstance(core.decide(first, D(0), now=1.0), Approved)
    core.on_update(update(first, OrderEvent.FILL, OrderStatus.FILLED, "10", "190"))
    second = core.decide(request("t2", symbol="MSFT", qty="10"), D(0), now=1.0)
    assert isinstance(second, Denied)
    assert second.code == "sector_cap"


def test_002_sell_without_a_position_never_makes_exposure_negative() -> None:
    """A sell with nothing held is an opening short that needs buying power; the book
    records -5, and exposure counts it as +950, never as a negative number (002)."""
    core = guard(msgspec.structs.replace(SECTORS, max_gross_exposure=D("0.0095")))
    sell = request("s1", symbol="XOM", side=Side.SELL, qty="5")
    decision = core.decide(sell, D(0), now=1.0)
    assert isinstance(decision, Approved)
    assert decision.reserved == D(500)
    core.on_update(update(sell, OrderEvent.FILL, OrderStatus.FILLED, "5", "100"))
    assert core.positions() == {"XOM": D(-5)}
    # Gross is 500 + 500 = 1000 > 950: a negative exposure would have let this through.
    more = core.decide(request("b1", symbol="XOM", side=Side.SELL, qty="5"), D(-5), now=1.0)
    assert isinstance(more, Denied)
    assert more.code == "gross_exposure"


@pytest.mark.parametrize("qty", ["-5", "0", "NaN"])
def test_002_negative_or_zero_size_never_becomes_an_order(qty: str) -> None:
    """A negative, zero or non-finite size is refused at the signal and again by RiskGuard."""
    with pytest.raises(BadSignal):
        parse_signal(f'{{"id":"n","symbol":"AAPL","action":"buy","qty":"{qty}"}}')
    decision = guard(SECTORS).decide(request("n", qty=qty), D(0), now=1.0)
    assert isinstance(decision, Denied)
    assert decision.code == "bad_qty"


def test_000_qty_below_one_share_on_a_non_fractionable_asset() -> None:
    """0.4 of a whole-share asset is denied before the venue sees it (000 min order size);
    the same qty of a fractionable asset passes."""
    whole = Asset(symbol="AAPL", tradable=True, fractionable=False)
    core = guard(SECTORS, AAPL=whole)
    denied = core.decide(request("f1", symbol="AAPL", qty="0.4"), D(0), now=1.0)
    assert isinstance(denied, Denied)
    assert denied.code == "fraction_not_allowed"
    assert isinstance(core.decide(request("f2", symbol="XOM", qty="0.4"), D(0), now=1.0), Approved)


def test_000_validation_and_execution_value_the_same_order() -> None:
    """What RiskGuard validates is the exact order sent: its reservation is that order's
    qty at its worst-case price, not a separate estimate that could disagree (000 #6)."""
    core = guard(msgspec.structs.replace(SECTORS, market_slippage=D("0.02")))
    order = request("v1", symbol="XOM", qty="7")
    decision = core.decide(order, D(0), now=1.0)
    assert isinstance(decision, Approved)
    assert decision.reserved == order.qty * D(100) * D("1.02")


def test_003_tecl_stale_buying_power_with_concurrent_orders() -> None:
    """The TECL line: buying power 3432.62 read once, then a 52,596 order on top of others
    in flight. Reservations deny it here instead of the venue refusing it."""
    limits = RiskLimits(
        duplicate_window=0,
        max_order_notional=None,
        max_gross_exposure=None,
        max_net_exposure=None,
    )
    core = guard(limits, cash="3432.62")
    first = core.decide(request("c1", symbol="TECL", qty="40"), D(0), now=1.0)
    tecl = core.decide(request("c2", symbol="TECL", qty="645"), D(0), now=1.0)
    assert isinstance(first, Approved)
    assert isinstance(tecl, Denied)
    assert tecl.code == "insufficient_buying_power"
    assert core.reserved <= D("3432.62")
