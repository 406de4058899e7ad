from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from actors.router.rebalance import plan_rebalance


def test_rebalance_trades_deltas_not_a_liquidate_and_rebuy_round_trip() -> None:
    """Incident 003: moving 60/40 to 50/50 trades the difference, a fraction of the book."""
    prices = {"A": D(100), "B": D(100)}
    positions = {"A": D(600), "B": D(400)}
    plan = plan_rebalance({"A": D("0.5"), "B": D("0.5")}, D(100_000), prices, positions)
    assert [(leg.symbol, leg.delta) for leg in plan.sells] == [("A", D(-100))]
    assert [(leg.symbol, leg.delta) for leg in plan.buys] == [("B", D(100))]
    liquidate_and_rebuy = sum(positions.values()) + D(500) + D(500)
    assert plan.turnover == D(200)
    assert plan.turnover < liquidate_and_rebuy / 9


def test_symbols_left_out_are_sold_and_unpriced_ones_skipped() -> None:
    """A held symbol absent from the weights goes to zero; one with no price is skipped."""
    plan = plan_rebalance(
        {"A": D("0.5"), "C": D("0.5")}, D(1000), {"A": D(10)}, {"A": D(0), "B": D(7)}
    )
    assert [(leg.symbol, leg.target) for leg in plan.sells] == [("B", D(0))]
    assert [(leg.symbol, leg.target) for leg in plan.buys] == [("A", D(50))]
    assert [s.symbol for s in plan.skipped] == ["C"]


def test_targets_round_down_to_the_increment_and_tiny_legs_are_skipped() -> None:
    """Targets never overshoot the weight; a leg worth under the minimum is reported."""
    whole = plan_rebalance({"A": D("0.5")}, D(1000), {"A": D(30)}, {})
    assert whole.buys[0].target == D(16)  # 16.67 shares, rounded down
    at_target = plan_rebalance({"A": D("0.333")}, D(1000), {"A": D(30)}, {"A": D(11)})
    assert (at_target.buys, at_target.sells, at_target.skipped) == ((), (), ())
    fractional = {"A": D("0.001")}
    tiny = plan_rebalance(
        {"A": D("0.333")}, D(1000), {"A": D(30)}, {"A": D("11.09")}, increments=fractional
    )
    assert tiny.buys == ()
    assert [s.symbol for s in tiny.skipped] == ["A"]


@given(
    weights=st.dictionaries(
        st.sampled_from("ABCDE"), st.integers(0, 20).map(lambda w: D(w) / 100), max_size=5
    ),
    positions=st.dictionaries(st.sampled_from("ABCDEF"), st.integers(-50, 50).map(D), max_size=6),
)
def test_plan_reaches_targets_within_the_weights(
    weights: dict[str, D], positions: dict[str, D]
) -> None:
    """Applying the plan gives every symbol its target, never worth more than its weight."""
    prices = {s: D(25) for s in "ABCDEF"}
    equity = D(10_000)
    plan = plan_rebalance(weights, equity, prices, positions)
    after = dict(positions)
    for leg in (*plan.sells, *plan.buys):
        assert after.get(leg.symbol, D(0)) == leg.current
        after[leg.symbol] = leg.target
    for symbol, qty in after.items():
        assert qty * prices[symbol] <= weights.get(symbol, D(0)) * equity or qty == positions.get(
            symbol
        )
