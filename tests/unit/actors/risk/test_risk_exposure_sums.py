"""The exposure book's running sums, kept by price steps and position changes, always equal
a valuation of the whole book from scratch."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.prices import PriceBook
from actors.risk.core_exposure import ExposureBook
from actors.risk.limits import RiskLimits
from brokers.base import OrderEvent, OrderRequest, OrderStatus, Side
from tests.builders import request, update
from tests.strategies import exposure_sum_steps

SYMBOLS = ("AAPL", "XOM", "CVX")
LIMITS = RiskLimits(sectors={"AAPL": "tech", "XOM": "energy"})


def from_scratch(
    book: ExposureBook, prices: PriceBook, limits: RiskLimits
) -> tuple[D, D, D, dict[str, D]]:
    gross = high_sum = low_sum = D(0)
    sectors: dict[str, D] = {}
    for symbol in SYMBOLS:
        position = book.position(symbol)
        high = position + book.pending(symbol, Side.BUY)
        low = position - book.pending(symbol, Side.SELL)
        quote = prices.quote(symbol)
        if quote is None or quote.price <= 0 or not (high or low):
            continue
        value = max(abs(high), abs(low)) * quote.price
        gross += value
        high_sum += high * quote.price
        low_sum += low * quote.price
        sector = limits.sectors.get(symbol)
        if sector is not None:
            sectors[sector] = sectors.get(sector, D(0)) + value
    return gross, high_sum, low_sum, sectors


@settings(max_examples=300)
@given(st.lists(exposure_sum_steps(SYMBOLS), max_size=60))
def test_running_sums_equal_a_fresh_valuation(steps: list[tuple[object, ...]]) -> None:
    """After any mix of price moves (zero and below included), approvals, fills, releases
    and sector-map reloads, gross, both nets and every sector's gross are exact."""
    prices = PriceBook()
    limits = LIMITS
    book = ExposureBook(limits, prices)
    live: list[tuple[str, OrderRequest]] = []
    for n, step in enumerate(steps):
        match step:
            case ("price", str(symbol), D() as price):
                prices.update(symbol, price, now=float(n))
            case ("order", str(symbol), Side() as side, int(qty)):
                req = request(f"o{n}", symbol=symbol, side=side, qty=str(qty))
                book.reserve(req.client_order_id, symbol, side, req.qty)
                live.append((req.client_order_id, req))
            case ("fill", int(pick), int(qty)) if live:
                _cid, req = live.pop(pick % len(live))
                filled = min(D(qty), req.qty)
                done = filled == req.qty
                status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
                event = OrderEvent.FILL if done else OrderEvent.PARTIAL_FILL
                book.on_update(update(req, event, status, str(filled), "1"))
            case ("release", int(pick), _) if live:
                cid, _req = live.pop(pick % len(live))
                book.release(cid)
            case ("sectors", bool(energy_is_tech), _):
                sectors = dict(LIMITS.sectors)
                if energy_is_tech:
                    sectors["XOM"] = "tech"
                limits = RiskLimits(sectors=sectors)
                book.set_limits(limits)
        gross, high, low, sectors_now = book.totals()
        want_gross, want_high, want_low, want_sectors = from_scratch(book, prices, limits)
        assert (gross, high, low) == (want_gross, want_high, want_low)
        assert {k: v for k, v in sectors_now.items() if v} == want_sectors
