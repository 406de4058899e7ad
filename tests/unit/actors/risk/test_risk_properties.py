from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from actors.messages import Approved
from actors.prices import PriceBook
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from brokers.base import Account, OrderEvent, OrderRequest, OrderStatus, Side
from tests.builders import T0, request, update
from tests.strategies import risk_guard_steps

SYMBOLS = ("AAPL", "MSFT", "XOM")
PRICE = D(10)
START = D(1000)
LIMITS = RiskLimits(
    market_slippage=D(0),
    duplicate_window=0,
    max_orders_per_second=None,
    max_orders_per_minute=None,
    max_open_orders=4,
    max_position_qty=D(40),
    max_position_notional=None,
    max_gross_exposure=D("0.8"),
    max_net_exposure=D("0.6"),
)


@given(steps=st.lists(risk_guard_steps(SYMBOLS), max_size=40))
def test_commitments_and_caps_hold_for_any_interleaving(steps: list[tuple[Any, ...]]) -> None:
    """For any mix of approvals, fills, cancels and rejects, reserved plus spent never exceeds
    buying power, and positions, open orders, gross and net exposure stay within their caps."""
    prices = PriceBook()
    for symbol in SYMBOLS:
        prices.update(symbol, PRICE, now=0.0)
    core = RiskGuardCore(LIMITS, prices)
    core.set_account(Account(cash=START, buying_power=START, equity=START), 0.0, T0)
    live: list[tuple[OrderRequest, bool]] = []  # approved, not final yet; adds exposure?
    for n, step in enumerate(steps):
        if step[0] == "order":
            _, symbol, side, qty = step
            assert isinstance(symbol, str)
            assert isinstance(side, Side)
            assert isinstance(qty, int)
            req = request(f"o{n}", symbol=symbol, side=side, qty=str(qty))
            held = core.positions().get(symbol, D(0))
            decision = core.decide(req, held, now=1.0)
            if isinstance(decision, Approved):
                live.append((req, decision.reserved > 0))
        elif live:
            outcome, pick = step
            assert isinstance(pick, int)
            _finish(core, live.pop(pick % len(live))[0], str(outcome), n)
        _assert_within_limits(core, sum(1 for _, opening in live if opening))


def _finish(core: RiskGuardCore, req: OrderRequest, outcome: str, n: int) -> None:
    """End one live order: filled (wholly, or partly then canceled), canceled, rejected, or
    released without a venue event."""
    if outcome in ("fill", "partial"):
        qty = req.qty if outcome == "fill" else max(D(1), req.qty // 2)
        status = OrderStatus.FILLED if qty == req.qty else OrderStatus.CANCELED
        event = OrderEvent.FILL if qty == req.qty else OrderEvent.CANCELED
        core.on_update(
            update(req, event, status, str(qty), str(PRICE), (f"e{n}", str(qty), str(PRICE)))
        )
    elif outcome == "cancel":
        core.on_update(update(req, OrderEvent.CANCELED, OrderStatus.CANCELED))
    elif outcome == "reject":
        core.on_update(update(req, OrderEvent.REJECTED, OrderStatus.REJECTED))
    else:
        core.release(req.client_order_id)


def _assert_within_limits(core: RiskGuardCore, open_entries: int) -> None:
    assert core.buying_power is not None
    spent = START - core.buying_power
    assert spent + core.reserved <= START
    assert open_entries <= 4  # risk-reducing orders are never held back by this cap
    positions = core.positions()
    assert all(abs(qty) <= 40 for qty in positions.values())
    gross = sum((abs(q) * PRICE for q in positions.values()), D(0))
    net = sum((q * PRICE for q in positions.values()), D(0))
    assert gross <= D("0.8") * START
    assert abs(net) <= D("0.6") * START
