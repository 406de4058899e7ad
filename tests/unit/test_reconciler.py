from __future__ import annotations

from decimal import Decimal as D

from actors.reconciler import compare_positions


def test_drift_names_its_likely_cause() -> None:
    """Phantom, external and differing positions are each reported with a cause."""
    drifts = compare_positions({"A": D(5), "B": D(1)}, {"B": D(2), "C": D(3)})
    described = {d.symbol: d.describe() for d in drifts}
    assert "phantom" in described["A"]
    assert "differ" in described["B"]
    assert "external" in described["C"]
    assert compare_positions({"A": D(1)}, {"A": D(1)}) == []
