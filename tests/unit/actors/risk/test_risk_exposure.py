from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from actors.prices import PriceBook
from actors.risk.core_exposure import ExposureBook
from actors.risk.limits import RiskLimits
from brokers.base import OrderEvent, OrderRequest, OrderStatus, Side
from tests.builders import request, update
from tests.strategies import exposure_steps

NO_CAPS = RiskLimits(max_position_notional=None, max_gross_exposure=None, max_net_exposure=None)


def priced(*symbols: str) -> PriceBook:
    """Every symbol at 10, priced at time 0."""
    prices = PriceBook()
    for symbol in symbols or ("AAPL", "MSFT", "XOM"):
        prices.update(symbol, D(10), now=0.0)
    return prices


def test_sell_without_a_position_is_a_short_never_negative_exposure() -> None:
    """A sell with no position makes a short; gross exposure stays positive (002)."""
    book = ExposureBook(RiskLimits(max_gross_exposure=D(1), max_net_exposure=None), priced())
    req = request("s", side=Side.SELL, qty="5")
    book.reserve("s", "AAPL", Side.SELL, D(5))
    book.on_update(update(req, OrderEvent.FILL, OrderStatus.FILLED, "5", "10"))
    assert book.positions() == {"AAPL": D(-5)}
    # Gross is |-50| + 60 = 110 > 100: the short counts as exposure, not as a credit.
    refusal = book.check("MSFT", Side.BUY, D(6), D(10), D(100), now=1.0)
    assert refusal is not None
    assert refusal.code == "gross_exposure"


def test_repeated_fill_updates_apply_once() -> None:
    """The same cumulative fill seen twice moves the position once."""
    book = ExposureBook(NO_CAPS, priced())
    req = request("a", qty="5")
    twice = update(req, OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED, "3", "10")
    book.on_update(twice)
    book.on_update(twice)
    assert book.position("AAPL") == D(3)


def test_pending_orders_count_against_caps() -> None:
    """Two approved, unfilled orders cannot pass a position cap together."""
    book = ExposureBook(RiskLimits(max_position_qty=D(10)), priced())
    assert book.check("AAPL", Side.BUY, D(6), D(10), D(10_000), now=1.0) is None
    book.reserve("a", "AAPL", Side.BUY, D(6))
    refusal = book.check("AAPL", Side.BUY, D(6), D(10), D(10_000), now=1.0)
    assert refusal is not None
    assert refusal.code == "max_position_qty"
    book.release("a")
    assert book.check("AAPL", Side.BUY, D(6), D(10), D(10_000), now=1.0) is None


def test_position_notional_cap() -> None:
    """The position's value after the order is capped."""
    book = ExposureBook(RiskLimits(max_position_notional=D(500)), priced())
    refusal = book.check("AAPL", Side.BUY, D(51), D(10), D(10_000), now=1.0)
    assert refusal is not None
    assert refusal.code == "max_position_notional"


def test_net_exposure_cap() -> None:
    """Net long value beyond the multiple of equity is refused."""
    book = ExposureBook(RiskLimits(max_gross_exposure=None, max_net_exposure=D("0.5")), priced())
    book.load({"MSFT": D(3)})
    refusal = book.check("AAPL", Side.BUY, D(3), D(10), D(100), now=1.0)
    assert refusal is not None
    assert refusal.code == "net_exposure"


def test_held_position_without_fresh_price_denies() -> None:
    """A held position that cannot be valued freshly blocks new exposure, with a reason."""
    book = ExposureBook(RiskLimits(), priced("AAPL"))
    book.load({"MSFT": D(3)})
    refusal = book.check("AAPL", Side.BUY, D(1), D(10), D(10_000), now=1.0)
    assert refusal is not None
    assert refusal.code == "no_price"


def test_sector_cap_holds_after_the_first_position() -> None:
    """With a position in the book, a sector past its share of gross is refused."""
    limits = RiskLimits(
        sectors={"AAPL": "tech", "MSFT": "tech", "XOM": "energy"},
        sector_caps={"tech": D("0.5")},
    )
    book = ExposureBook(limits, priced())
    book.load({"AAPL": D(5)})
    refusal = book.check("MSFT", Side.BUY, D(5), D(10), D(10_000), now=1.0)
    assert refusal is not None
    assert refusal.code == "sector_cap"
    book.load({"AAPL": D(5), "XOM": D(10)})
    assert book.check("MSFT", Side.BUY, D(5), D(10), D(10_000), now=1.0) is None


def test_running_valuation_follows_price_moves() -> None:
    """A held symbol's new price is seen by the next check, and an old one refuses."""
    prices = priced()
    book = ExposureBook(RiskLimits(max_gross_exposure=D(1), max_net_exposure=None), prices)
    book.load({"MSFT": D(5)})
    assert book.check("AAPL", Side.BUY, D(5), D(10), D(100), now=1.0) is None
    prices.update("MSFT", D(12), now=50.0)
    refusal = book.check("AAPL", Side.BUY, D(5), D(10), D(100), now=51.0)
    assert refusal is not None
    assert refusal.code == "gross_exposure"
    stale = book.check("AAPL", Side.BUY, D(1), D(10), D(100), now=111.0)
    assert stale is not None
    assert stale.code == "no_price"


SYMS = ("AAPL", "MSFT", "XOM")


@given(steps=st.lists(exposure_steps(SYMS), max_size=30), probe=st.integers(1, 20))
def test_running_sums_equal_a_fresh_valuation(steps: list[tuple[Any, ...]], probe: int) -> None:
    """After any mix of reservations, fills, releases and price moves, the kept-up book
    decides exactly as a book valued from scratch with the same positions and orders."""
    limits = RiskLimits(
        max_gross_exposure=D("0.4"),
        max_net_exposure=D("0.2"),
        sectors={"AAPL": "tech", "MSFT": "tech"},
        sector_caps={"tech": D("0.6")},
    )
    prices = priced()
    book = ExposureBook(limits, prices)
    live: dict[str, tuple[OrderRequest, int]] = {}  # open orders, and qty filled
    for n, step in enumerate(steps):
        match step:
            case ("reserve", symbol, side, qty):
                req = request(f"o{n}", symbol=symbol, side=side, qty=str(qty))
                book.reserve(req.client_order_id, symbol, side, req.qty)
                live[req.client_order_id] = (req, 0)
            case ("fill", pick, qty) if live:
                cid = sorted(live)[pick % len(live)]
                req, filled = live[cid]
                total = min(int(req.qty), filled + qty)
                status = OrderStatus.FILLED if total == req.qty else OrderStatus.PARTIALLY_FILLED
                book.on_update(update(req, OrderEvent.FILL, status, str(total), "10"))
                live[cid] = (req, total)
                if status is OrderStatus.FILLED:
                    del live[cid]
            case ("release", pick) if live:
                cid = sorted(live)[pick % len(live)]
                book.release(cid)
                del live[cid]
            case ("price", symbol, price):
                prices.update(symbol, D(price), now=0.5)
    fresh = ExposureBook(limits, prices)
    fresh.load(book.positions())
    for cid, (req, filled) in live.items():
        fresh.reserve(cid, req.symbol, req.side, req.qty - filled)
    for symbol in SYMS:
        for side in Side:
            kept = book.check(symbol, side, D(probe), D(10), D(1000), now=1.0)
            assert kept == fresh.check(symbol, side, D(probe), D(10), D(1000), now=1.0)
