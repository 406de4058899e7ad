from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from actors.messages import Approved, Denied
from actors.prices import PriceBook
from actors.risk_guard import RiskGuardCore, RiskLimits
from brokers.base import Account, OrderEvent, OrderStatus, OrderType, Side
from tests.builders import request, update


def guard(buying_power: str = "1000", price: str = "10") -> RiskGuardCore:
    prices = PriceBook()
    prices.update("AAPL", D(price), now=0.0)
    core = RiskGuardCore(RiskLimits(market_slippage=D(0)), prices)
    core.set_account(
        Account(cash=D(buying_power), buying_power=D(buying_power), equity=D(buying_power))
    )
    return core


def test_concurrent_buys_cannot_overspend() -> None:
    """Reservations of approved, unfilled orders count against buying power (003 TECL)."""
    core = guard("1000", "10")
    first = core.decide(request("a", qty="60"), D(0), now=1.0)
    second = core.decide(request("b", qty="60"), D(0), now=1.0)
    assert isinstance(first, Approved)
    assert first.reserved == D(600)
    assert isinstance(second, Denied)
    assert second.code == "insufficient_buying_power"


def test_final_state_releases_the_reservation() -> None:
    """A canceled order gives its reservation back."""
    core = guard("1000", "10")
    req = request("a", qty="60")
    core.decide(req, D(0), now=1.0)
    core.on_update(update(req, OrderEvent.CANCELED, OrderStatus.CANCELED))
    assert core.reserved == 0
    assert isinstance(core.decide(request("b", qty="60"), D(0), now=1.0), Approved)


def test_fill_moves_buying_power_and_shrinks_reservation() -> None:
    """A fill spends buying power at the fill price and releases its share of the reservation."""
    core = guard("1000", "10")
    req = request("a", qty="10")
    core.decide(req, D(0), now=1.0)
    core.on_update(
        update(
            req, OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED, "4", "9", ("e", "4", "9")
        )
    )
    assert core.buying_power == D(964)
    assert core.reserved == D(60)


def test_selling_a_long_needs_no_buying_power() -> None:
    """A sell within the long position is risk-reducing: approved even with none left."""
    core = guard("0", "10")
    decision = core.decide(request("s", side=Side.SELL, qty="5"), D(5), now=1.0)
    assert isinstance(decision, Approved)
    assert decision.reserved == 0


def test_stale_or_missing_price_denies_market_orders() -> None:
    """A market order with no fresh price is denied with a reason, never valued by a guess."""
    core = guard("1000", "10")
    stale = core.decide(request("a", qty="1"), D(0), now=61.0)
    unknown = core.decide(request("b", symbol="MSFT", qty="1"), D(0), now=1.0)
    assert isinstance(stale, Denied)
    assert stale.code == "no_price"
    assert isinstance(unknown, Denied)
    assert unknown.code == "no_price"


def test_limit_order_valued_at_its_limit() -> None:
    """A limit buy reserves qty times its limit price, whatever the last price is."""
    core = guard("1000", "10")
    decision = core.decide(
        request("a", qty="2", order_type=OrderType.LIMIT, limit_price="400"), D(0), now=1.0
    )
    assert isinstance(decision, Approved)
    assert decision.reserved == D(800)


@given(
    orders=st.lists(
        st.tuples(st.integers(1, 50), st.sampled_from(["fill", "cancel", "reject", "none"])),
        max_size=25,
    )
)
def test_reserved_plus_spent_never_exceeds_buying_power(orders: list[tuple[int, str]]) -> None:
    """For any mix of approvals, fills, cancels and rejects, commitments stay within means."""
    core = guard("1000", "10")
    start = D(1000)
    for i, (qty, outcome) in enumerate(orders):
        req = request(f"o{i}", qty=str(qty))
        if isinstance(core.decide(req, D(0), now=1.0), Denied):
            continue
        if outcome == "fill":
            core.on_update(
                update(
                    req,
                    OrderEvent.FILL,
                    OrderStatus.FILLED,
                    str(qty),
                    "10",
                    (f"e{i}", str(qty), "10"),
                )
            )
        elif outcome == "cancel":
            core.on_update(update(req, OrderEvent.CANCELED, OrderStatus.CANCELED))
        elif outcome == "reject":
            core.on_update(update(req, OrderEvent.REJECTED, OrderStatus.REJECTED))
        assert core.buying_power is not None
        spent = start - core.buying_power
        assert spent + core.reserved <= start
        assert core.reserved >= 0
